package bootstrap

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/addons/ingress"
	"github.com/velad-dev/velad/addons/lifecycle"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/internal/rollout"
)

// Check result lines for `velad status`.
type StatusLine struct {
	Name   string
	OK     bool
	Detail string
}

// Status reports the daemon, the node, the system deployments, the
// controller and each enabled addon, one line each.
func Status(ctx context.Context, cfg *config.Config, d Daemon) []StatusLine {
	healthy, state := d.Healthy()
	lines := []StatusLine{{Name: "daemon", OK: healthy, Detail: state}}
	cs, err := clientFor(cfg.Paths().AdminKubeconfig)
	if err != nil {
		return append(lines, StatusLine{Name: "api server", Detail: fmt.Sprintf("no kubeconfig in %s: %v", cfg.DataDir, err)})
	}
	if v, err := cs.Discovery().ServerVersion(); err != nil {
		return append(lines, StatusLine{Name: "api server", Detail: err.Error()})
	} else {
		lines = append(lines, StatusLine{Name: "api server", OK: true, Detail: "Kubernetes " + v.GitVersion})
	}
	if !cfg.DisableAgent {
		ok, detail := NodeReady(ctx, cs, cfg.NodeName)
		lines = append(lines, StatusLine{Name: "node " + cfg.NodeName, OK: ok, Detail: detail})
	}
	for _, d := range []struct{ ns, name string }{{"kube-system", "coredns"}, {"local-path-storage", "local-path-provisioner"}} {
		ok, detail := rollout.DeploymentAvailable(ctx, cs, d.ns, d.name)
		lines = append(lines, StatusLine{Name: d.ns + "/" + d.name, OK: ok, Detail: detail})
	}
	// The controller is reported when installed (not with --cluster-only).
	if _, err := cs.AppsV1().Deployments(ControllerNamespace).Get(ctx, ControllerRelease, metav1.GetOptions{}); err == nil {
		ok, detail := rollout.DeploymentAvailable(ctx, cs, ControllerNamespace, ControllerRelease)
		lines = append(lines, StatusLine{Name: ControllerNamespace + "/" + ControllerRelease, OK: ok, Detail: detail})
	}
	lines = append(lines, addonStatus(ctx, cfg)...)
	// The ingress addon's Traefik: ports and routes.
	if st := ingress.ReadStatus(ctx, cs); st.Installed {
		lines = append(lines, StatusLine{Name: "ingress", OK: st.Available, Detail: st.Detail})
	}
	return lines
}

// addonStatus is one line per enabled addon: its version and health.
func addonStatus(ctx context.Context, cfg *config.Config) []StatusLine {
	reg, err := addons.Load()
	if err != nil {
		return []StatusLine{{Name: "addons", Detail: err.Error()}}
	}
	m, err := lifecycle.New(reg, lifecycle.Options{Kubeconfig: cfg.Paths().AdminKubeconfig})
	if err != nil {
		return []StatusLine{{Name: "addons", Detail: err.Error()}}
	}
	infos, err := m.List(ctx)
	if err != nil {
		return []StatusLine{{Name: "addons", Detail: err.Error()}}
	}
	var lines []StatusLine
	for _, i := range infos {
		if i.Enabled {
			lines = append(lines, StatusLine{Name: "addon " + i.Name, OK: i.Healthy, Detail: i.Installed + ", " + i.Health})
		}
	}
	return lines
}
