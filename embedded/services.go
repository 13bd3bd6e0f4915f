package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
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
// An agent (Deferred) imports the images every node needs at once
// (NodeImages: the pod sandbox above all, a few MB cut out of velad's
// archive) before its kubelet starts, and the rest (CoreDNS, the
// controllers, Traefik, the user's archives) in the background, so they do
// not hold back its node's readiness; a pod that needs one of those before
// it is in waits in the kubelet's image pull backoff, and the agent logs
// the import's end or failure.
type Images struct {
	Config   *config.Config
	Runtime  *Runtime
	Deferred bool

	stop chan struct{}
	done chan struct{}
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
// (an agent: its own images now, the rest in the background).
func (i *Images) Start(ctx context.Context) error {
	if !i.Deferred {
		return i.importPayloads(ctx, func(string) bool { return true }, true)
	}
	if err := i.importNodeImages(ctx); err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.Background())
	i.stop, i.done = make(chan struct{}), make(chan struct{})
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
		begin := time.Now()
		if err := i.importPayloads(bg, func(string) bool { return true }, true); err != nil {
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

// NodeImages are what an agent imports before its kubelet starts.
var NodeImages = []string{SandboxImage, VolumeHelperImage, HelloImage}

// importNodeImages imports NodeImages from a cut of velad's archive.
func (i *Images) importNodeImages(ctx context.Context) error {
	dir := i.Config.Paths().ImagesDir
	archives, err := assets.ExtractImagePayloads(dir, func(name string) bool { return name == assets.ImagesPayload })
	if err != nil {
		return err
	}
	for _, a := range archives {
		node := filepath.Join(dir, "velad-images-node-"+strings.TrimPrefix(filepath.Base(a), "velad-images-"))
		if _, err := os.Stat(node); err != nil {
			if err := images.Subset(a, node, NodeImages); err != nil {
				return fmt.Errorf("cut the node images out of %s: %w", a, err)
			}
		}
		imported, err := i.Ctr().EnsureImported(ctx, node)
		if err != nil {
			return fmt.Errorf("import images from %s: %w", node, err)
		}
		if imported {
			klog.Infof("imported images from %s", node)
		}
	}
	return nil
}

// importPayloads imports the image payloads want accepts, then, with
// user, the archives the user dropped into the images folder.
func (i *Images) importPayloads(ctx context.Context, want func(string) bool, user bool) error {
	dir := i.Config.Paths().ImagesDir
	archives, err := assets.ExtractImagePayloads(dir, want)
	if err != nil {
		return err
	}
	if user {
		users, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
		for _, u := range users {
			if !assets.IsImagesExtract(u) {
				archives = append(archives, u)
			}
		}
	}
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
