package embedded

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
	kubeletoptions "k8s.io/kubernetes/cmd/kubelet/app/options"
	"k8s.io/kubernetes/pkg/kubelet/eviction"
	"k8s.io/kubernetes/pkg/kubelet/kubeletconfig/configfiles"
	utilfs "k8s.io/kubernetes/pkg/util/filesystem"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
	"github.com/velad-dev/velad/embedded/pki"
)

// KubeletHost describes the host facts the kubelet's config depends on.
type KubeletHost struct {
	SystemdCgroup bool
	ResolvConf    string
}

// KubeletConfigYAML renders the kubelet's config file (pure).
func KubeletConfigYAML(cfg *config.Config, host KubeletHost) ([]byte, error) {
	p := cfg.Paths()
	spec := PKISpec(cfg)
	driver := "cgroupfs"
	if host.SystemdCgroup {
		driver = "systemd"
	}
	taints, err := parseTaints(cfg.NodeTaints)
	if err != nil {
		return nil, err
	}
	kc := kubeletv1beta1.KubeletConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration"},
		Authentication: kubeletv1beta1.KubeletAuthentication{
			Anonymous: kubeletv1beta1.KubeletAnonymousAuthentication{Enabled: ptr.To(false)},
			Webhook:   kubeletv1beta1.KubeletWebhookAuthentication{Enabled: ptr.To(true)},
			X509:      kubeletv1beta1.KubeletX509Authentication{ClientCAFile: spec.CertFile(pki.ClientCA)},
		},
		Authorization:            kubeletv1beta1.KubeletAuthorization{Mode: kubeletv1beta1.KubeletAuthorizationModeWebhook},
		CgroupDriver:             driver,
		ClusterDNS:               []string{cfg.ClusterDNSIP().String()},
		ClusterDomain:            cfg.ClusterDomain,
		CgroupRoot:               p.KubeletCgroupRoot,
		ContainerRuntimeEndpoint: "unix://" + p.ContainerdSocket,
		EvictionHard:             map[string]string{"nodefs.available": "5%", "imagefs.available": "5%", "memory.available": "100Mi"},
		FailCgroupV1:             ptr.To(false),
		FailSwapOn:               ptr.To(false),
		HealthzBindAddress:       "127.0.0.1",
		PodLogsDir:               p.PodLogsDir,
		ReadOnlyPort:             0,
		RegisterWithTaints:       taints,
		ResolverConfig:           ptr.To(host.ResolvConf),
		SerializeImagePulls:      ptr.To(false),
		TLSCertFile:              spec.CertFile(pki.KubeletServingCert),
		TLSPrivateKeyFile:        spec.KeyFile(pki.KubeletServingCert),
	}
	return yaml.Marshal(kc)
}

// KubeletArgs builds the kubelet's command line (pure).
func KubeletArgs(cfg *config.Config) []string {
	p := cfg.Paths()
	args := []string{
		"--config=" + p.KubeletConfig,
		"--hostname-override=" + cfg.NodeName,
		"--kubeconfig=" + p.KubeletKubeconfig,
		"--node-ip=" + cfg.NodeIP,
		"--root-dir=" + p.KubeletRootDir,
	}
	if len(cfg.NodeLabels) > 0 {
		args = append(args, "--node-labels="+strings.Join(cfg.NodeLabels, ","))
	}
	return args
}

func parseTaints(specs []string) ([]corev1.Taint, error) {
	var taints []corev1.Taint
	for _, s := range specs {
		kv, effect, _ := strings.Cut(s, ":")
		key, value, _ := strings.Cut(kv, "=")
		if key == "" {
			return nil, fmt.Errorf("taint %q has no key", s)
		}
		taints = append(taints, corev1.Taint{Key: key, Value: value, Effect: corev1.TaintEffect(effect)})
	}
	return taints, nil
}

// Kubelet is the kubelet, run in this process.
type Kubelet struct {
	Config *config.Config

	inProcess
}

var (
	_ component.Component = (*Kubelet)(nil)
	_ component.Readier   = (*Kubelet)(nil)
	_ component.Failer    = (*Kubelet)(nil)
)

// Name implements component.Component.
func (k *Kubelet) Name() string { return "kubelet" }

// Init implements component.Component: writes the config and kubeconfig.
func (k *Kubelet) Init(context.Context) error {
	p := k.Config.Paths()
	for _, dir := range []string{p.KubeletRootDir, p.PodLogsDir} {
		if err := os.MkdirAll(dir, config.DirMode); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if err := portFree("127.0.0.1:10250", "(kubelet port 10250: stop the other kubelet)"); err != nil {
		return err
	}
	if err := ensureCgroupRoot(p.KubeletCgroupRoot); err != nil {
		return err
	}
	data, err := KubeletConfigYAML(k.Config, KubeletHost{SystemdCgroup: UnderSystemd(), ResolvConf: HostResolvConf()})
	if err != nil {
		return err
	}
	if _, err := fileutil.WriteIfChanged(p.KubeletConfig, data, config.PublicFileMode); err != nil {
		return err
	}
	return writeComponentKubeconfig(k.Config, p.KubeletKubeconfig, pki.KubeletClientCertNode)
}

// Start implements component.Component.
func (k *Kubelet) Start(context.Context) error {
	k.detachAfter = 2 * time.Second
	ctx := k.context()
	server, err := kubeletServer(ctx, KubeletArgs(k.Config))
	if err != nil {
		k.stop()
		return err
	}
	deps, err := kubelet.UnsecuredDependencies(ctx, server, utilfeature.DefaultFeatureGate)
	if err != nil {
		k.stop()
		return fmt.Errorf("kubelet dependencies: %w", err)
	}
	k.run(ctx, func(ctx context.Context) error {
		return kubelet.Run(ctx, server, deps, utilfeature.DefaultFeatureGate)
	})
	return nil
}

// kubeletServer parses the command line and loads the config file the way
// the kubelet's own command does.
func kubeletServer(ctx context.Context, args []string) (*kubeletoptions.KubeletServer, error) {
	flags := kubeletoptions.NewKubeletFlags()
	kc, err := kubeletoptions.NewKubeletConfiguration()
	if err != nil {
		return nil, err
	}
	fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	flags.AddFlags(fs)
	kubeletoptions.AddKubeletConfigFlags(fs, kc)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("kubelet flags: %w", err)
	}
	if err := kubeletoptions.ValidateKubeletFlags(flags); err != nil {
		return nil, fmt.Errorf("kubelet flags: %w", err)
	}
	loader, err := configfiles.NewFsLoader(&utilfs.DefaultFs{}, flags.KubeletConfigFile)
	if err != nil {
		return nil, err
	}
	loaded, err := loader.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("kubelet config: %w", err)
	}
	for k, v := range eviction.DefaultEvictionHard {
		if _, ok := loaded.EvictionHard[k]; !ok {
			loaded.EvictionHard[k] = v
		}
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(loaded.FeatureGates); err != nil {
		return nil, err
	}
	return &kubeletoptions.KubeletServer{KubeletFlags: *flags, KubeletConfiguration: *loaded}, nil
}

// Ready implements component.Readier: the kubelet's healthz answers and
// its Node object exists.
func (k *Kubelet) Ready(ctx context.Context) error {
	c := &probe{client: plainClient()}
	if err := c.ok(ctx, "http://127.0.0.1:10248/healthz"); err != nil {
		return err
	}
	cs, err := nodeClient(k.Config)
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Nodes().Get(ctx, k.Config.NodeName, metav1.GetOptions{})
	return err
}

// Stop implements component.Component.
func (k *Kubelet) Stop() error { return k.stop() }

// HostResolvConf picks a resolv.conf for pods: the host's, unless it
// points only at loopback (systemd-resolved), then resolved's upstream file.
func HostResolvConf() string {
	const host, resolved = "/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"
	data, err := os.ReadFile(host)
	if err == nil && hasNonLoopbackNameserver(string(data)) {
		return host
	}
	if _, err := os.Stat(resolved); err == nil {
		return resolved
	}
	return host
}

func hasNonLoopbackNameserver(conf string) bool {
	for _, line := range strings.Split(conf, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if ip := net.ParseIP(fields[1]); ip != nil && !ip.IsLoopback() {
				return true
			}
		}
	}
	return false
}

func writeComponentKubeconfig(cfg *config.Config, path, cert string) error {
	spec := PKISpec(cfg)
	ca, err := spec.ReadCert(pki.ServerCA)
	if err != nil {
		return err
	}
	data, err := renderKubeconfig(spec, LocalAPIServerURL(cfg), ca, cert)
	if err != nil {
		return err
	}
	_, err = fileutil.WriteIfChanged(path, data, config.SecretFileMode)
	return err
}

// nodeClient is the kubelet's own client: what a node may see (its Node),
// on servers and agents alike.
func nodeClient(cfg *config.Config) (kubernetes.Interface, error) {
	return clientFor(cfg.Paths().KubeletKubeconfig)
}

func adminClient(cfg *config.Config) (kubernetes.Interface, error) {
	return clientFor(cfg.Paths().AdminKubeconfig)
}

func clientFor(kubeconfig string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.Timeout = 5 * time.Second
	return kubernetes.NewForConfig(rc)
}
