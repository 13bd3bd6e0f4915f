package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/velad-dev/velad/operators/fluxcd/chartrepo"
)

// TestAddons installs velad once, with its default addons, and shares that
// node between the subtests: the addon commands' answers, a Helm chart
// delivered through the fluxcd addon's helm component (installed, upgraded
// on values and on version, a missing version reported, uninstalled with
// the app), and disabling the addon, refused while the app uses it. The
// charts come from the in-cluster chart repository (velad chart push), so
// nothing leaves the machine and the test makes no network namespace.
func TestAddons(t *testing.T) {
	v := installVelad(t)
	bin, dir, dataDir, kubeconfig := v.bin, v.dir, v.dataDir, v.kubeconfig
	kc := []string{"--kubeconfig", kubeconfig}
	velad := func(t *testing.T, limit time.Duration, args ...string) string {
		t.Helper()
		return runOK(t, limit, bin, append(args, kc...)...)
	}

	out := v.installOut
	cs := nodeClient(t, kubeconfig)

	t.Run("install enables the default addons", func(t *testing.T) {
		if !strings.Contains(out, "Enabling the default addons (fluxcd, ingress, rollout)") {
			t.Errorf("install output has no addon step:\n%s", out)
		}
		if out := runOK(t, time.Minute, bin, "status", "--data-dir", dataDir); !strings.Contains(out, "✓ addon fluxcd") {
			t.Errorf("velad status does not show a healthy fluxcd:\n%s", out)
		}
		assertAddonListed(t, bin, kubeconfig, "fluxcd", true)
	})

	t.Run("addon commands refuse bad input and change nothing", func(t *testing.T) {
		if out := velad(t, time.Minute, "addon", "enable", "fluxcd"); !strings.Contains(out, "addon fluxcd 0.1.0 was already enabled: nothing changed") {
			t.Errorf("enabling twice:\n%s", out)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"addon", "enable", "nope"}, `velad: unknown addon "nope" (velad carries: fluxcd, ingress, rollout)`},
			{[]string{"addon", "enable", "fluxcd", "--set", "concurrent=many"}, "velad: addon fluxcd: invalid values for chart fluxcd: concurrent:"},
			{[]string{"addon", "enable", "fluxcd", "--set", "=x"}, `velad: addon fluxcd: --set "=x": a key is empty`},
			{[]string{"addon", "status", "nope"}, `velad: unknown addon "nope"`},
		} {
			assertFails(t, bin, append(tc.args, kc...), tc.want)
		}
		if rev := addonRevision(t, bin, kubeconfig, "fluxcd"); rev != 1 {
			t.Errorf("fluxcd's release is at revision %d after refused changes, want 1", rev)
		}
	})

	t.Run("helm component", func(t *testing.T) {
		for _, v := range []string{"0.1.0", "0.2.0"} {
			if out := velad(t, time.Minute, "chart", "push", helloChart(t, v)); !strings.Contains(out, "pushed chart hello "+v) {
				t.Fatalf("velad chart push:\n%s", out)
			}
		}
		app := filepath.Join(dir, "charted.yaml")
		up := func(version, message string, wait bool) {
			t.Helper()
			writeHelmApp(t, app, chartrepo.DefaultURL, version, message)
			args := []string{"up", "-f", app}
			if wait {
				args = append(args, "--wait", "--timeout", "3m")
			}
			velad(t, 4*time.Minute, args...)
		}

		// The chart's Deployment, on velad/hello, is ready with the app.
		up("0.1.0", "one", true)
		assertHello(t, cs, "0.1.0", "one")
		// Changing values upgrades the release, changing the version too.
		up("0.1.0", "two", true)
		assertHello(t, cs, "0.1.0", "two")
		up("0.2.0", "two", true)
		assertHello(t, cs, "0.2.0", "two")

		tree := velad(t, time.Minute, "status", "charted", "--tree")
		for _, want := range []string{"HelmRelease default/hello-chart", "HelmRepository default/hello-chart", "Deployment default/hello-chart", "Service default/hello-chart"} {
			if !strings.Contains(tree, want) {
				t.Errorf("velad status charted --tree has no %q:\n%s", want, tree)
			}
		}

		// The addon cannot be disabled while the app uses its helm component.
		assertFails(t, bin, append([]string{"addon", "disable", "fluxcd"}, kc...), "default/charted (component hello-chart: helm)")

		// A version the repository does not have: the app is unhealthy
		// and says why, in Flux's words, naming the component.
		up("9.9.9", "two", false)
		const reason = "no 'hello' chart with version matching '9.9.9' found"
		var msg string
		deadline := time.Now().Add(2 * time.Minute)
		for !strings.Contains(msg, reason) && time.Now().Before(deadline) {
			time.Sleep(time.Second)
			out, _ := exec.Command(bin, append([]string{"status", "charted"}, kc...)...).CombinedOutput()
			msg = string(out)
		}
		if !strings.Contains(msg, reason) || !strings.Contains(msg, "hello-chart  unhealthy") {
			t.Errorf("velad status charted does not show the component unhealthy with Flux's reason %q within 2m:\n%s", reason, msg)
		}

		// Deleting the app uninstalls the release.
		velad(t, 3*time.Minute, "delete", "charted", "--wait")
		waitFor(t, 2*time.Minute, "the chart's Deployment to go", func() bool {
			_, err := cs.AppsV1().Deployments("default").Get(context.Background(), "hello-chart", metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		})
		secrets, err := cs.CoreV1().Secrets("default").List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=hello-chart"})
		if err != nil || len(secrets.Items) != 0 {
			t.Errorf("Helm release records left: %v %d", err, len(secrets.Items))
		}
	})

	t.Run("disable and enable again", func(t *testing.T) {
		velad(t, 3*time.Minute, "addon", "disable", "fluxcd")
		assertAddonListed(t, bin, kubeconfig, "fluxcd", false)
		assertFails(t, bin, append([]string{"addon", "disable", "fluxcd"}, kc...), "velad: addon fluxcd is not enabled")
		velad(t, 3*time.Minute, "addon", "enable", "fluxcd")
		assertAddonListed(t, bin, kubeconfig, "fluxcd", true)
	})
}

// helloChart packages the test chart at a version and returns the .tgz:
// velad/hello behind a Service, its greeting from values.
func helloChart(t *testing.T, version string) string {
	t.Helper()
	ch := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "hello", Version: version, AppVersion: "v1"},
		Values:    map[string]any{"message": "Hello World"},
		Templates: []*chart.File{{Name: "templates/hello.yaml", Data: []byte(helloTemplate)}},
	}
	path, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// helloTemplate is the test chart's one template; the chart's version is
// on the pods.
const helloTemplate = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}, chart-version: {{ .Chart.Version | quote }}}
    spec:
      containers:
      - name: hello
        image: ` + helloImage + `
        imagePullPolicy: Never
        env: [{name: MESSAGE, value: {{ .Values.message | quote }}}]
        readinessProbe: {httpGet: {path: /, port: 8000}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector: {app: {{ .Release.Name }}}
  ports: [{port: 8000}]
`

func writeHelmApp(t *testing.T, path, url, version, message string) {
	t.Helper()
	app := fmt.Sprintf(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: charted, namespace: default}
spec:
  components:
  - name: hello-chart
    type: helm
    properties:
      url: %q
      chart: hello
      version: %q
      values: {message: %q}
`, url, version, message)
	if err := os.WriteFile(path, []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
}

// assertHello checks that the chart's Deployment runs the chart version
// with the message, rolled out, and that its Service answers with it.
func assertHello(t *testing.T, cs kubernetes.Interface, version, message string) {
	t.Helper()
	ctx := context.Background()
	d, err := cs.AppsV1().Deployments("default").Get(ctx, "hello-chart", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Spec.Template.Labels["chart-version"]; got != version {
		t.Errorf("chart version %q, want %q", got, version)
	}
	if got := d.Spec.Template.Spec.Containers[0].Env[0].Value; got != message {
		t.Errorf("message %q, want %q", got, message)
	}
	if d.Status.ObservedGeneration != d.Generation || d.Status.UpdatedReplicas != 1 || d.Status.AvailableReplicas != 1 || d.Status.Replicas != 1 {
		t.Errorf("the app was running before the chart's Deployment rolled out: %+v", d.Status)
	}
	svc, err := cs.CoreV1().Services("default").Get(ctx, "hello-chart", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertHTTP(t, "http://"+svc.Spec.ClusterIP+":8000/", message)
}

// assertFails runs velad, wanting a failure whose message is one line
// holding want.
func assertFails(t *testing.T, bin string, args []string, want string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("velad %s: err=%v, want %q:\n%s", strings.Join(args, " "), err, want, out)
	}
	if n := strings.Count(strings.TrimSpace(string(out)), "\n"); err != nil && n > 0 && strings.HasPrefix(string(out), "velad:") {
		t.Errorf("velad %s: more than one line:\n%s", strings.Join(args, " "), out)
	}
}

func assertAddonListed(t *testing.T, bin, kubeconfig, name string, enabled bool) {
	t.Helper()
	out := runOK(t, time.Minute, bin, "addon", "list", "-o", "json", "--kubeconfig", kubeconfig)
	var infos []struct {
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
		Healthy bool   `json:"healthy"`
	}
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("addon list -o json: %v\n%s", err, out)
	}
	for _, i := range infos {
		if i.Name == name {
			if i.Enabled != enabled || (enabled && !i.Healthy) {
				t.Errorf("addon %s: enabled %v healthy %v, want enabled %v (and healthy)", name, i.Enabled, i.Healthy, enabled)
			}
			return
		}
	}
	t.Errorf("addon list has no %s:\n%s", name, out)
}

func addonRevision(t *testing.T, bin, kubeconfig, name string) int {
	t.Helper()
	out := runOK(t, time.Minute, bin, "addon", "status", name, "-o", "json", "--kubeconfig", kubeconfig)
	var r struct {
		Release *struct {
			Revision int `json:"revision"`
		} `json:"release"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Release == nil {
		t.Fatalf("addon status -o json: %v\n%s", err, out)
	}
	return r.Release.Revision
}
