package bootstrap

import (
	"slices"
	"strings"
	"testing"
)

// --cluster-only (no controller chart) installs Kubernetes alone; otherwise
// the controller is installed, then awaited, after the cluster is ready.
func TestInstallStepsController(t *testing.T) {
	names := func(o *InstallOptions) []string {
		var out []string
		for _, s := range InstallSteps(o) {
			out = append(out, s.Name)
		}
		return out
	}
	clusterOnly := names(&InstallOptions{Daemon: NewDaemon()})
	for _, n := range clusterOnly {
		if strings.Contains(n, "controller") {
			t.Errorf("--cluster-only runs %q", n)
		}
	}
	full := names(&InstallOptions{Daemon: NewDaemon(), Controller: &ControllerChart{}})
	if len(full) != len(clusterOnly)+2 {
		t.Fatalf("steps with the controller:\n%s", strings.Join(full, "\n"))
	}
	for i, n := range clusterOnly {
		if full[i] != n {
			t.Fatalf("step %d is %q, want the cluster's steps first (%q)", i, full[i], n)
		}
	}
	if !strings.HasPrefix(full[len(full)-2], "Installing the velad controller") || !strings.HasPrefix(full[len(full)-1], "Waiting for the velad controller") {
		t.Errorf("last steps: %q", full[len(full)-2:])
	}
}

// The addons are enabled last, after the controller is ready, and only
// with the controller (--cluster-only has neither); with none left (every
// default one disabled) there is no addon step.
func TestInstallStepsAddons(t *testing.T) {
	names := func(o *InstallOptions) []string {
		var out []string
		for _, s := range InstallSteps(o) {
			out = append(out, s.Name)
		}
		return out
	}
	cases := []struct {
		name string
		o    InstallOptions
		want string // the last step
	}{
		{"with addons", InstallOptions{Controller: &ControllerChart{}, Addons: []string{"fluxcd", "ingress"}}, "Enabling the default addons (fluxcd, ingress)"},
		{"every addon disabled", InstallOptions{Controller: &ControllerChart{}}, "Waiting for the velad controller and its definitions"},
		{"cluster only", InstallOptions{Addons: []string{"fluxcd"}}, "Waiting for local-path storage"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Daemon = NewDaemon()
			got := names(&tc.o)
			if got[len(got)-1] != tc.want {
				t.Errorf("last step %q, want %q:\n%s", got[len(got)-1], tc.want, strings.Join(got, "\n"))
			}
			for _, n := range got[:len(got)-1] {
				if strings.Contains(n, "addon") {
					t.Errorf("addon step %q before the last", n)
				}
			}
		})
	}
}

func TestSplitImage(t *testing.T) {
	for _, tc := range []struct{ ref, repo, tag string }{
		{"docker.io/velad/controller:0.1.0-abc", "docker.io/velad/controller", "0.1.0-abc"},
		{"registry.local:5000/velad/controller:v1", "registry.local:5000/velad/controller", "v1"},
		{"registry.local:5000/velad/controller", "", ""},
		{"controller", "", ""},
	} {
		repo, tag, err := splitImage(tc.ref)
		if tc.repo == "" {
			if err == nil {
				t.Errorf("%s: no error, want 'has no tag'", tc.ref)
			}
			continue
		}
		if err != nil || repo != tc.repo || tag != tc.tag {
			t.Errorf("%s: %q %q %v", tc.ref, repo, tag, err)
		}
	}
}

// runningDaemon is a Daemon in a given state that does nothing.
type runningDaemon bool

func (runningDaemon) Kind() string              { return "test" }
func (runningDaemon) Install([]string) error    { return nil }
func (runningDaemon) Start() error              { return nil }
func (runningDaemon) Stop() error               { return nil }
func (d runningDaemon) Running() (bool, string) { return bool(d), "" }
func (d runningDaemon) Healthy() (bool, string) { return bool(d), "" }
func (runningDaemon) Remove() error             { return nil }

// A re-install stops the running velad in a step of its own, before the
// host checks (its ports are velad's); a first install has no such step.
func TestInstallStepsStopRunning(t *testing.T) {
	for _, running := range []bool{false, true} {
		var names []string
		for _, s := range InstallSteps(&InstallOptions{Daemon: runningDaemon(running)}) {
			names = append(names, s.Name)
		}
		stop := slices.Index(names, "Stopping the running velad")
		check := slices.Index(names, "Checking the host")
		if running && (stop < 0 || stop+1 != check) {
			t.Errorf("running velad: want the stop step right before the checks:\n%s", strings.Join(names, "\n"))
		}
		if !running && stop >= 0 {
			t.Errorf("no velad running, yet a stop step:\n%s", strings.Join(names, "\n"))
		}
	}
}
