package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/velad-dev/velad/charts"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/definition"
)

// The ingress addon's pieces, enabled and disabled the way the addon
// lifecycle does it (its chart as Helm release vela-system/ingress, its
// definitions into vela-system), until `velad addon enable|disable`
// reaches main and these become those commands.
const (
	ingressNamespace = "vela-system"
	ingressRelease   = "ingress"
)

func enableIngress(t *testing.T, bin, kubeconfig string) {
	t.Helper()
	ch, err := release.Load(charts.FS(), "ingress")
	if err != nil {
		t.Fatal(err)
	}
	c, err := release.New(kubeconfig, ingressNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(context.Background(), ingressRelease, ch, map[string]any{}, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	defs, err := definition.LoadPaths("../addons/ingress/definitions")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		d.Object.SetNamespace(ingressNamespace)
		data, err := definition.MarshalYAML(d)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), d.Name+".yaml")
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		runOK(t, time.Minute, bin, "kubectl", "--kubeconfig", kubeconfig, "apply", "-f", f)
	}
	runOK(t, 3*time.Minute, bin, "kubectl", "--kubeconfig", kubeconfig, "-n", ingressNamespace,
		"rollout", "status", "deployment/traefik", "--timeout=150s")
}

func disableIngress(t *testing.T, _, kubeconfig string) {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	ns := ingressNamespace
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	un := action.NewUninstall(cfg)
	un.Wait, un.Timeout = true, 2*time.Minute
	if _, err := un.Run(ingressRelease); err != nil {
		t.Fatal(err)
	}
}
