package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/assets"
	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/images"
	"github.com/velad-dev/velad/embedded/manifests"
)

// Images of the cluster services, built from Go sources into the payload.
const (
	CoreDNSImage      = "docker.io/velad/coredns:1.15.0"
	LocalPathImage    = "docker.io/velad/local-path-provisioner:v0.0.30"
	VolumeHelperImage = "docker.io/velad/volume-helper:v1"
	HelloImage        = "docker.io/velad/hello:v1"
)

// Images imports the images carried in velad, and any archive the user
// dropped into the images folder, into containerd; already present images
// are not imported again.
//
// Every node imports the node payload first (assets.NodeImagesPayload:
// the pod sandbox, the volume helper and the examples' hello, a few MB):
// that is all a kubelet needs to run its first pods. The server then
// imports the rest (the user's archives, then CoreDNS, the controllers,
// Traefik) before its services start.
//
// An agent (Deferred) imports all of it in the background: the node
// payload while its kubelet starts (NodeImagesImported, after the kubelet
// and before the pod network config its node's readiness waits for,
// holds the start until it is in), then the rest, so that decompressing
// the controllers does not hold back its node's readiness. A pod that
// needs one of those images before they are in fails its first pull and
// is retried after the kubelet's image pull backoff (10 s, doubling; the
// kubelet offers no setting for it); the agent logs the import's end or
// failure.
type Images struct {
	Config   *config.Config
	Runtime  *Runtime
	Deferred bool

	stop    chan struct{}
	done    chan struct{}
	nodeIn  chan struct{} // closed once the node payload is in (Deferred)
	nodeErr chan error    // why the node payload could not be imported (Deferred)
}

var _ component.Component = (*Images)(nil)

// Name implements component.Component.
func (i *Images) Name() string { return "images" }

// Init implements component.Component.
func (i *Images) Init(context.Context) error {
	return os.MkdirAll(i.Config.Paths().ImagesDir, config.DirMode)
}

// Ctr is the ctr tool bound to this node's containerd.
func (i *Images) Ctr() images.Ctr {
	return images.Ctr{Binary: filepath.Join(i.Runtime.BinDir(), "ctr"), Socket: i.Config.Paths().ContainerdSocket}
}

// Start implements component.Component: imports before pods need images
// (an agent: everything in the background, the node payload first).
func (i *Images) Start(ctx context.Context) error {
	if !i.Deferred {
		if err := i.importNodeImages(ctx); err != nil {
			return err
		}
		return i.importRest(ctx)
	}
	bg, cancel := context.WithCancel(context.Background())
	i.stop, i.done = make(chan struct{}), make(chan struct{})
	i.nodeIn, i.nodeErr = make(chan struct{}), make(chan error, 1)
	go func() {
		defer close(i.done)
		defer cancel()
		go func() {
			select {
			case <-i.stop:
				cancel()
			case <-bg.Done():
			}
		}()
		if err := i.importNodeImages(bg); err != nil {
			if bg.Err() == nil {
				i.nodeErr <- err
			}
			return
		}
		close(i.nodeIn)
		begin := time.Now()
		if err := i.importRest(bg); err != nil {
			if bg.Err() == nil {
				klog.Errorf("importing images in the background failed (pods needing them cannot start; restart the agent to retry): %v", err)
			}
			return
		}
		klog.Infof("background image import done in %s", time.Since(begin).Round(time.Millisecond))
		// Decompressing left garbage an edge box should not keep resident.
		debug.FreeOSMemory()
	}()
	return nil
}

// NodeImagesImported waits until an agent's Images has imported the node
// payload, which it does in the background: placed after the kubelet, the
// import overlaps the kubelet's start; placed before the pod network
// config, which the node's readiness waits for, no pod comes to the node
// before its sandbox image is there.
type NodeImagesImported struct {
	Images *Images
}

var (
	_ component.Component = (*NodeImagesImported)(nil)
	_ component.Readier   = (*NodeImagesImported)(nil)
	_ component.Failer    = (*NodeImagesImported)(nil)
)

// Name implements component.Component.
func (n *NodeImagesImported) Name() string { return "node images" }

// Init implements component.Component.
func (n *NodeImagesImported) Init(context.Context) error { return nil }

// Start implements component.Component.
func (n *NodeImagesImported) Start(context.Context) error {
	if n.Images.nodeIn == nil {
		return errors.New("the images component imports nothing in the background (not Deferred)")
	}
	return nil
}

// Ready implements component.Readier.
func (n *NodeImagesImported) Ready(context.Context) error {
	select {
	case <-n.Images.nodeIn:
		return nil
	default:
		return fmt.Errorf("%s is not imported yet", assets.NodeImagesPayload)
	}
}

// Failed implements component.Failer: the node payload's import failure.
func (n *NodeImagesImported) Failed() <-chan error { return n.Images.nodeErr }

// Stop implements component.Component (Images stops the import).
func (n *NodeImagesImported) Stop() error { return nil }

// NodeImages are the images of the node payload, which every node imports
// before its kubelet starts.
var NodeImages = []string{SandboxImage, VolumeHelperImage, HelloImage}

func isRestPayload(name string) bool { return name != assets.NodeImagesPayload }

// importNodeImages imports the node payload, after checking that it holds
// NodeImages.
func (i *Images) importNodeImages(ctx context.Context) error {
	archives, err := assets.ExtractImagePayloads(i.Config.Paths().ImagesDir, func(name string) bool { return name == assets.NodeImagesPayload })
	if err != nil {
		return err
	}
	if len(archives) == 0 {
		return fmt.Errorf("this velad binary carries no %s (the pod sandbox image); rebuild it with 'make build'", assets.NodeImagesPayload)
	}
	refs, err := images.ArchiveRefs(archives[0])
	if err != nil {
		return err
	}
	for _, want := range NodeImages {
		if !slices.Contains(refs, want) {
			return fmt.Errorf("%s lacks the image %s; rebuild velad with 'make build' (scripts/build-images.sh)", assets.NodeImagesPayload, want)
		}
	}
	return i.importArchives(ctx, archives)
}

// importRest imports the archives the user dropped into the images folder,
// then every payload but the node payload. The user's come first: on an
// agent they hold what its pool's workloads run (and need no
// decompressing), while velad's controllers mostly run on the server.
func (i *Images) importRest(ctx context.Context) error {
	dir := i.Config.Paths().ImagesDir
	var users []string
	tars, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
	for _, u := range tars {
		if !assets.IsImagesExtract(u) {
			users = append(users, u)
		}
	}
	if err := i.importArchives(ctx, users); err != nil {
		return err
	}
	archives, err := assets.ExtractImagePayloads(dir, isRestPayload)
	if err != nil {
		return err
	}
	return i.importArchives(ctx, archives)
}

func (i *Images) importArchives(ctx context.Context, archives []string) error {
	ctr := i.Ctr()
	for _, a := range archives {
		imported, err := ctr.EnsureImported(ctx, a)
		if err != nil {
			return fmt.Errorf("import images from %s: %w", a, err)
		}
		if imported {
			klog.Infof("imported images from %s", a)
		}
	}
	return nil
}

// Stop implements component.Component: it ends a background import and
// waits for it.
func (i *Images) Stop() error {
	if i.stop == nil {
		return nil
	}
	close(i.stop)
	<-i.done
	i.stop = nil
	return nil
}

// ClusterServices applies the cluster services (CoreDNS, local-path
// storage) carried in velad and prunes what they no longer contain.
type ClusterServices struct {
	Config *config.Config
}

var (
	_ component.Component = (*ClusterServices)(nil)
	_ component.Readier   = (*ClusterServices)(nil)
)

// Name implements component.Component.
func (c *ClusterServices) Name() string { return "cluster services" }

// ManifestValues fills the service manifests from the config.
func ManifestValues(cfg *config.Config) manifests.Values {
	return manifests.Values{
		ClusterDomain:     cfg.ClusterDomain,
		ClusterDNSIP:      cfg.ClusterDNSIP().String(),
		StoragePath:       filepath.Join(cfg.DataDir, "storage"),
		CoreDNSImage:      CoreDNSImage,
		LocalPathImage:    LocalPathImage,
		VolumeHelperImage: VolumeHelperImage,
	}
}

// Init implements component.Component.
func (c *ClusterServices) Init(context.Context) error { return nil }

// Start implements component.Component.
func (c *ClusterServices) Start(context.Context) error { return nil }

// pruneKinds are the kinds manifests may have used in earlier versions.
var pruneKinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "ConfigMap"}, {Version: "v1", Kind: "Service"}, {Version: "v1", Kind: "ServiceAccount"},
	{Group: "apps", Version: "v1", Kind: "Deployment"}, {Group: "apps", Version: "v1", Kind: "DaemonSet"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"},
	{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass"},
}

// Ready implements component.Readier: applying is retried until it works.
func (c *ClusterServices) Ready(ctx context.Context) error {
	objs, err := manifests.Render(ManifestValues(c.Config))
	if err != nil {
		return err
	}
	rc, err := clientcmd.BuildConfigFromFlags("", c.Config.Paths().AdminKubeconfig)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return manifests.Applier{Client: dyn, Mapper: mapper}.Apply(ctx, objs, pruneKinds)
}

// Stop implements component.Component.
func (c *ClusterServices) Stop() error { return nil }
