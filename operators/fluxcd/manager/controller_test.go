package manager_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v3/pkg/registry"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/internal/testenv"
	"github.com/velad-dev/velad/operators/fluxcd/api"
	"github.com/velad-dev/velad/operators/fluxcd/chartrepo"
	"github.com/velad-dev/velad/operators/fluxcd/conditions"
	"github.com/velad-dev/velad/operators/fluxcd/fluxtest"
	"github.com/velad-dev/velad/operators/fluxcd/manager"
	"github.com/velad-dev/velad/operators/fluxcd/storage"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const wait = 60 * time.Second

type env struct {
	t       *testing.T
	c       client.Client
	repoURL string // HTTP chart repository with demo 0.1.0, 0.2.0
	ociURL  string // OCI registry (plain HTTP) with demo 0.1.0
}

// serve serves h from a test host in a network namespace when root (as
// CI), else from loopback.
func serve(t *testing.T, n *testenv.Network, h http.Handler) string {
	if n != nil {
		return n.AddHost(t).ServeHTTP(t, h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func setup(t *testing.T) *env {
	srv := testenv.New(t)
	cfg, err := srv.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := fluxtest.InstallCRDs(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	done, err := fluxtest.StartManager(ctx, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	scheme, _ := api.Scheme()
	_ = apiextensionsv1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	var n *testenv.Network
	if os.Getuid() == 0 {
		n = testenv.NewNetwork(t)
	}
	v1, _ := fluxtest.Chart("demo", "0.1.0")
	v2, _ := fluxtest.Chart("demo", "0.2.0")
	repo, err := fluxtest.NewRepository(map[string][]byte{"demo-0.1.0.tgz": v1, "demo-0.2.0.tgz": v2})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, c: c, repoURL: serve(t, n, repo)}

	ociHost := strings.TrimPrefix(serve(t, n, ggcrregistry.New()), "http://")
	rc, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(os.Stderr),
		registry.ClientOptCredentialsFile(t.TempDir()+"/creds.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Push(v1, ociHost+"/charts/demo:0.1.0"); err != nil {
		t.Fatalf("push chart to the test registry: %v", err)
	}
	e.ociURL = "oci://" + ociHost + "/charts"
	return e
}

func (e *env) namespace(name string) string {
	e.t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := e.c.Create(context.Background(), ns); err != nil {
		e.t.Fatal(err)
	}
	return name
}

func (e *env) create(obj client.Object) {
	e.t.Helper()
	if err := e.c.Create(context.Background(), obj); err != nil {
		e.t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

func helmRepo(ns, name, url string) *sourcev1.HelmRepository {
	return &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.HelmRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Minute}}}
}

func helmRelease(ns, name, repo, version string, values string) *helmv2.HelmRelease {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Minute},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart: "demo", Version: version,
				SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: repo}}},
		}}
	if values != "" {
		hr.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(values)}
	}
	return hr
}

// until polls obj until check passes (bounded by wait).
func until[T client.Object](e *env, obj T, what string, check func(T) bool) T {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := e.c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if err == nil && check(obj) {
			return obj
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s %s: not %s within %s (err %v): %s", fmt.Sprintf("%T", obj), obj.GetName(), what, wait, err, describe(obj))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func describe(obj client.Object) string {
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *helmv2.HelmRelease:
		conds = o.Status.Conditions
	case *sourcev1.HelmRepository:
		conds = o.Status.Conditions
	}
	var b strings.Builder
	for _, c := range conds {
		fmt.Fprintf(&b, "\n  %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

func readyWith(reason string) func(*helmv2.HelmRelease) bool {
	return func(hr *helmv2.HelmRelease) bool {
		c := conditions.Get(hr, meta.ReadyCondition)
		return hr.Status.ObservedGeneration == hr.Generation && c != nil && c.Reason == reason
	}
}

func (e *env) configMap(ns, name string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	err := e.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cm)
	return cm, err
}

func (e *env) update(hr *helmv2.HelmRelease, mut func(*helmv2.HelmRelease)) {
	e.t.Helper()
	for range 10 {
		if err := e.c.Get(context.Background(), client.ObjectKeyFromObject(hr), hr); err != nil {
			e.t.Fatal(err)
		}
		mut(hr)
		err := e.c.Update(context.Background(), hr)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			e.t.Fatal(err)
		}
	}
	e.t.Fatal("update kept conflicting")
}

func TestController(t *testing.T) {
	e := setup(t)
	ctx := context.Background()

	t.Run("HelmRepository", func(t *testing.T) {
		e.t = t
		ns := e.namespace("repos")
		e.create(helmRepo(ns, "demo", e.repoURL))
		repo := until(e, &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "demo"}}, "Ready",
			func(r *sourcev1.HelmRepository) bool { return conditions.IsTrue(r, meta.ReadyCondition) })
		a := repo.Status.Artifact
		if a == nil || !strings.HasPrefix(a.Revision, "sha256:") || len(a.Revision) != 71 ||
			conditions.Get(repo, meta.ReadyCondition).Reason != meta.SucceededReason ||
			!conditions.IsTrue(repo, sourcev1.ArtifactInStorageCondition) {
			t.Fatalf("artifact %+v, conditions %s", a, describe(repo))
		}
		if repo.Status.ObservedGeneration != repo.Generation {
			t.Fatalf("observedGeneration %d, generation %d", repo.Status.ObservedGeneration, repo.Generation)
		}

		e.create(helmRepo(ns, "missing", e.repoURL+"/nothing-here"))
		until(e, &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "missing"}}, "failed",
			func(r *sourcev1.HelmRepository) bool {
				c := conditions.Get(r, meta.ReadyCondition)
				return c != nil && c.Status == "False" && c.Reason == meta.FailedReason &&
					strings.Contains(c.Message, "failed to fetch Helm repository index") &&
					conditions.IsTrue(r, sourcev1.FetchFailedCondition)
			})

		bad := helmRepo(ns, "bad-url", "oci://example.invalid/x")
		e.create(bad)
		until(e, bad, "stalled with URLInvalid", func(r *sourcev1.HelmRepository) bool {
			return conditions.HasReason(r, meta.ReadyCondition, sourcev1.URLInvalidReason) && conditions.IsTrue(r, meta.StalledCondition)
		})

		oci := helmRepo(ns, "oci", e.ociURL)
		oci.Spec.Type = sourcev1.HelmRepositoryTypeOCI
		e.create(oci)
		until(e, oci, "static", func(r *sourcev1.HelmRepository) bool {
			return r.Status.ObservedGeneration == r.Generation && len(r.Status.Conditions) == 0 && len(r.Finalizers) == 0
		})
	})

	t.Run("HelmRepositoryBasicAuth", func(t *testing.T) {
		e.t = t
		ns := e.namespace("auth")
		v1, _ := fluxtest.Chart("demo", "0.1.0")
		private, _ := fluxtest.NewRepository(map[string][]byte{"demo-0.1.0.tgz": v1})
		private.Username, private.Password = "user", "s3cret"
		srv := httptest.NewServer(private)
		defer srv.Close()
		repo := helmRepo(ns, "private", srv.URL)
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
		e.create(repo)
		until(e, repo, "AuthenticationFailed without its Secret", func(r *sourcev1.HelmRepository) bool {
			return conditions.HasReason(r, meta.ReadyCondition, sourcev1.AuthenticationFailedReason)
		})
		e.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
			StringData: map[string]string{"username": "user", "password": "s3cret"}})
		// The retry (with backoff) picks the Secret up.
		until(e, repo, "Ready", func(r *sourcev1.HelmRepository) bool { return conditions.IsTrue(r, meta.ReadyCondition) })
		hr := helmRelease(ns, "private", "private", "0.1.0", "")
		e.create(hr)
		until(e, hr, "installed through basic auth", readyWith(helmv2.InstallSucceededReason))
	})

	t.Run("InstallUpgradeDelete", func(t *testing.T) {
		e.t = t
		ns := e.namespace("lifecycle")
		e.create(helmRepo(ns, "demo", e.repoURL))
		hr := helmRelease(ns, "web", "demo", "0.1.0", `{"data":{"greeting":"hi"}}`)
		e.create(hr)
		until(e, hr, "installed", readyWith(helmv2.InstallSucceededReason))
		msg := conditions.Get(hr, meta.ReadyCondition).Message
		if want := "Helm install succeeded for release lifecycle/web.v1 with chart demo@0.1.0"; msg != want {
			t.Fatalf("Ready message %q, want %q", msg, want)
		}
		if !conditions.IsTrue(hr, helmv2.ReleasedCondition) || hr.Status.LastAttemptedRevision != "0.1.0" ||
			hr.Status.StorageNamespace != ns || len(hr.Status.History) != 1 || hr.Status.History[0].Status != "deployed" ||
			!strings.HasPrefix(hr.Status.LastAttemptedConfigDigest, "sha256:") || hr.Status.LastAttemptedValuesChecksum == "" ||
			!containsString(hr.Finalizers, helmv2.HelmReleaseFinalizer) {
			t.Fatalf("status after install: %+v", hr.Status)
		}
		if cm, err := e.configMap(ns, "web-cm"); err != nil || cm.Data["greeting"] != "hi" {
			t.Fatalf("release's ConfigMap: %v %v", cm.Data, err)
		}

		e.update(hr, func(h *helmv2.HelmRelease) {
			h.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(`{"data":{"greeting":"hey"}}`)}
		})
		until(e, hr, "upgraded on values", readyWith(helmv2.UpgradeSucceededReason))
		if cm, _ := e.configMap(ns, "web-cm"); cm.Data["greeting"] != "hey" || hr.Status.History.Latest().Version != 2 {
			t.Fatalf("after values change: %v, history %+v", cm.Data, hr.Status.History.Latest())
		}

		e.update(hr, func(h *helmv2.HelmRelease) { h.Spec.Chart.Spec.Version = "0.2.x" })
		until(e, hr, "upgraded on version", func(h *helmv2.HelmRelease) bool {
			return readyWith(helmv2.UpgradeSucceededReason)(h) && h.Status.LastAttemptedRevision == "0.2.0"
		})
		if cm, _ := e.configMap(ns, "web-cm"); cm.Data["chartVersion"] != "0.2.0" {
			t.Fatalf("after version change: %v", cm.Data)
		}
		if want := "Helm upgrade succeeded for release lifecycle/web.v3 with chart demo@0.2.0"; conditions.Get(hr, meta.ReadyCondition).Message != want {
			t.Fatalf("Ready message %q, want %q", conditions.Get(hr, meta.ReadyCondition).Message, want)
		}

		e.update(hr, func(h *helmv2.HelmRelease) { h.Spec.Chart.Spec.Version = "9.9.9" })
		until(e, hr, "failed on a missing version", func(h *helmv2.HelmRelease) bool {
			c := conditions.Get(h, meta.ReadyCondition)
			return c != nil && c.Status == "False" && c.Reason == helmv2.ArtifactFailedReason &&
				strings.Contains(c.Message, "no 'demo' chart with version matching '9.9.9' found")
		})
		if cm, _ := e.configMap(ns, "web-cm"); cm.Data["chartVersion"] != "0.2.0" {
			t.Fatalf("a missing version changed the release: %v", cm.Data)
		}

		if err := e.c.Delete(ctx, hr); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(wait)
		for {
			_, errCM := e.configMap(ns, "web-cm")
			errHR := e.c.Get(ctx, client.ObjectKeyFromObject(hr), &helmv2.HelmRelease{})
			var secrets corev1.SecretList
			_ = e.c.List(ctx, &secrets, client.InNamespace(ns), client.MatchingLabels{"owner": "helm", "name": "web"})
			if apierrors.IsNotFound(errCM) && apierrors.IsNotFound(errHR) && len(secrets.Items) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("delete did not uninstall: configmap %v, helmrelease %v, %d release secrets", errCM, errHR, len(secrets.Items))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("ValuesFrom", func(t *testing.T) {
		e.t = t
		ns := e.namespace("values")
		e.create(helmRepo(ns, "demo", e.repoURL))
		e.create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "base"},
			Data: map[string]string{"values.yaml": "data: {a: base, b: base, c: base, d: base}\n"}})
		e.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "over"},
			StringData: map[string]string{"v": "data: {b: secret, c: secret}\n", "token": "from-target-path"}})
		hr := helmRelease(ns, "vals", "demo", "0.1.0", `{"data":{"c":"inline","d":"inline"}}`)
		hr.Spec.ValuesFrom = []helmv2.ValuesReference{
			{Kind: "ConfigMap", Name: "base"},
			{Kind: "Secret", Name: "over", ValuesKey: "v"},
			{Kind: "Secret", Name: "over", ValuesKey: "token", TargetPath: "data.d"},
			{Kind: "ConfigMap", Name: "absent", Optional: true},
		}
		e.create(hr)
		until(e, hr, "installed", readyWith(helmv2.InstallSucceededReason))
		cm, err := e.configMap(ns, "vals-cm")
		want := map[string]string{"a": "base", "b": "secret", "c": "inline", "d": "from-target-path"}
		for k, v := range want {
			if err != nil || cm.Data[k] != v {
				t.Fatalf("values: got %v (%v), want %v", cm.Data, err, want)
			}
		}

		missing := helmRelease(ns, "missing-values", "demo", "0.1.0", "")
		missing.Spec.ValuesFrom = []helmv2.ValuesReference{{Kind: "ConfigMap", Name: "absent"}}
		e.create(missing)
		until(e, missing, "ValuesError", func(h *helmv2.HelmRelease) bool {
			c := conditions.Get(h, meta.ReadyCondition)
			return c != nil && c.Reason == "ValuesError" && strings.Contains(c.Message, "'values/absent'")
		})
	})

	t.Run("DependsOnAndSuspend", func(t *testing.T) {
		e.t = t
		ns := e.namespace("deps")
		e.create(helmRepo(ns, "demo", e.repoURL))
		b := helmRelease(ns, "b", "demo", "0.1.0", "")
		b.Spec.DependsOn = []helmv2.DependencyReference{{Name: "a"}}
		e.create(b)
		until(e, b, "waiting on a", readyWith(helmv2.DependencyNotReadyReason))
		if _, err := e.configMap(ns, "b-cm"); !apierrors.IsNotFound(err) {
			t.Fatalf("b installed before its dependency: %v", err)
		}
		e.create(helmRelease(ns, "a", "demo", "0.1.0", ""))
		until(e, b, "installed after a", readyWith(helmv2.InstallSucceededReason))

		e.update(b, func(h *helmv2.HelmRelease) {
			h.Spec.Suspend = true
			h.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(`{"data":{"greeting":"suspended"}}`)}
		})
		time.Sleep(3 * time.Second) // a suspended object is left alone: nothing to wait for
		if cm, _ := e.configMap(ns, "b-cm"); cm.Data["greeting"] != "hello" {
			t.Fatalf("suspended release was upgraded: %v", cm.Data)
		}
		e.update(b, func(h *helmv2.HelmRelease) { h.Spec.Suspend = false })
		until(e, b, "upgraded once resumed", readyWith(helmv2.UpgradeSucceededReason))
		if cm, _ := e.configMap(ns, "b-cm"); cm.Data["greeting"] != "suspended" {
			t.Fatalf("resumed release: %v", cm.Data)
		}
	})

	t.Run("InstallRemediation", func(t *testing.T) {
		e.t = t
		ns := e.namespace("install-fail")
		e.create(helmRepo(ns, "demo", e.repoURL))
		hr := helmRelease(ns, "broken", "demo", "0.1.0", `{"name":"Not_A_Valid_Name"}`)
		hr.Spec.Install = &helmv2.Install{Remediation: &helmv2.InstallRemediation{Retries: 1}}
		e.create(hr)
		until(e, hr, "stalled after its retries", func(h *helmv2.HelmRelease) bool {
			return conditions.HasReason(h, meta.StalledCondition, "RetriesExceeded")
		})
		rel := conditions.Get(hr, helmv2.ReleasedCondition)
		// The second attempt failed on the chart again, not on "cannot
		// re-use a name": the first failed release was uninstalled between.
		if hr.Status.InstallFailures != 2 || rel == nil || rel.Reason != helmv2.InstallFailedReason ||
			!strings.Contains(rel.Message, "Helm install failed for release install-fail/broken with chart demo@0.1.0") ||
			strings.Contains(rel.Message, "re-use") || conditions.IsTrue(hr, meta.ReadyCondition) {
			t.Fatalf("installFailures %d, Released %+v%s", hr.Status.InstallFailures, rel, describe(hr))
		}
		if c := conditions.Get(hr, meta.StalledCondition); c.Message != "Failed to install after 2 attempt(s)" {
			t.Fatalf("Stalled message %q", c.Message)
		}
		// Fixing the values resets the counters; as in Flux, the failed
		// release is upgraded.
		e.update(hr, func(h *helmv2.HelmRelease) { h.Spec.Values = nil })
		until(e, hr, "released once fixed", readyWith(helmv2.UpgradeSucceededReason))
		if cm, err := e.configMap(ns, "broken-cm"); err != nil || cm.Data["greeting"] != "hello" {
			t.Fatalf("fixed release's ConfigMap: %v %v", cm, err)
		}
		if v := hr.Status.History.Latest().Version; v != 2 {
			t.Fatalf("fixed release is v%d, want v2 (one upgrade, no loop)", v)
		}
		if hr.Status.InstallFailures != 0 || conditions.Get(hr, meta.StalledCondition) != nil {
			t.Fatalf("after the fix: installFailures %d%s", hr.Status.InstallFailures, describe(hr))
		}
	})

	t.Run("UpgradeRollbackAndHistory", func(t *testing.T) {
		e.t = t
		ns := e.namespace("upgrade-fail")
		e.create(helmRepo(ns, "demo", e.repoURL))
		hr := helmRelease(ns, "app", "demo", "0.1.0", "")
		max := 2
		hr.Spec.MaxHistory = &max
		hr.Spec.Upgrade = &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{Retries: 1}}
		e.create(hr)
		until(e, hr, "installed", readyWith(helmv2.InstallSucceededReason))
		for i := range 3 {
			greeting := fmt.Sprintf("v%d", i)
			e.update(hr, func(h *helmv2.HelmRelease) {
				h.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(`{"data":{"greeting":"` + greeting + `"}}`)}
			})
			until(e, hr, "upgraded", func(h *helmv2.HelmRelease) bool {
				return readyWith(helmv2.UpgradeSucceededReason)(h) && h.Status.History.Latest().Version == i+2
			})
		}
		var secrets corev1.SecretList
		if err := e.c.List(ctx, &secrets, client.InNamespace(ns), client.MatchingLabels{"owner": "helm", "name": "app"}); err != nil || len(secrets.Items) > max {
			t.Fatalf("maxHistory %d: %d release secrets (%v)", max, len(secrets.Items), err)
		}
		if n := len(hr.Status.History); n < 1 || n > 2 {
			t.Fatalf("status.history has %d snapshots: %+v", n, hr.Status.History)
		}

		e.update(hr, func(h *helmv2.HelmRelease) { h.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(`{"name":"Bad_Name"}`)} })
		until(e, hr, "stalled after rollbacks", func(h *helmv2.HelmRelease) bool {
			return conditions.HasReason(h, meta.StalledCondition, "RetriesExceeded")
		})
		rem := conditions.Get(hr, helmv2.RemediatedCondition)
		ready := conditions.Get(hr, meta.ReadyCondition)
		if hr.Status.UpgradeFailures != 2 || rem == nil || rem.Reason != helmv2.RollbackSucceededReason ||
			ready.Status != "False" || ready.Reason != helmv2.RollbackSucceededReason {
			t.Fatalf("upgradeFailures %d%s", hr.Status.UpgradeFailures, describe(hr))
		}
		if cm, err := e.configMap(ns, "app-cm"); err != nil || cm.Data["greeting"] != "v2" {
			t.Fatalf("rolled back release's ConfigMap: %v %v", cm.Data, err)
		}
	})

	t.Run("OCI", func(t *testing.T) {
		e.t = t
		ns := e.namespace("oci")
		repo := helmRepo(ns, "charts", e.ociURL)
		repo.Spec.Type, repo.Spec.Insecure = sourcev1.HelmRepositoryTypeOCI, true
		e.create(repo)
		hr := helmRelease(ns, "from-oci", "charts", "0.1.x", "")
		e.create(hr)
		until(e, hr, "installed from OCI", readyWith(helmv2.InstallSucceededReason))
		if !strings.HasPrefix(hr.Status.LastAttemptedRevisionDigest, "sha256:") || hr.Status.LastAttemptedRevision != "0.1.0" {
			t.Fatalf("OCI revision %q digest %q", hr.Status.LastAttemptedRevision, hr.Status.LastAttemptedRevisionDigest)
		}
	})

	t.Run("UnsupportedAndOlderVersions", func(t *testing.T) {
		e.t = t
		ns := e.namespace("compat")
		e.create(helmRepo(ns, "demo", e.repoURL))
		hr := helmRelease(ns, "post", "demo", "0.1.0", "")
		hr.Spec.PostRenderers = []helmv2.PostRenderer{{}}
		e.create(hr)
		until(e, hr, "stalled on an unsupported field", func(h *helmv2.HelmRelease) bool {
			c := conditions.Get(h, meta.ReadyCondition)
			return c != nil && c.Status == "False" && c.Reason == "UnsupportedField" &&
				strings.HasPrefix(c.Message, "spec.postRenderers is not supported") && conditions.IsTrue(h, meta.StalledCondition)
		})
		if _, err := e.configMap(ns, "post-cm"); !apierrors.IsNotFound(err) {
			t.Fatalf("an unsupported release was installed: %v", err)
		}

		// What KubeVela's helm definition emits: v1beta2 and v2beta1.
		old := &unstructured.Unstructured{}
		old.SetAPIVersion("source.toolkit.fluxcd.io/v1beta2")
		old.SetKind("HelmRepository")
		old.SetNamespace(ns)
		old.SetName("old")
		_ = unstructured.SetNestedField(old.Object, e.repoURL, "spec", "url")
		_ = unstructured.SetNestedField(old.Object, "5m", "spec", "interval")
		e.create(old)
		oldHR := &unstructured.Unstructured{}
		oldHR.SetAPIVersion("helm.toolkit.fluxcd.io/v2beta1")
		oldHR.SetKind("HelmRelease")
		oldHR.SetNamespace(ns)
		oldHR.SetName("old")
		oldHR.Object["spec"] = map[string]any{
			"interval": "30s", "timeout": "10m",
			"chart":   map[string]any{"spec": map[string]any{"chart": "demo", "version": "*", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "old"}, "interval": "5m"}},
			"install": map[string]any{"remediation": map[string]any{"retries": int64(3)}},
			"upgrade": map[string]any{"remediation": map[string]any{"retries": int64(3)}},
		}
		e.create(oldHR)
		until(e, &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "old"}}, "installed from v2beta1",
			readyWith(helmv2.InstallSucceededReason))
	})

	t.Run("InClusterChartRepository", func(t *testing.T) {
		e.t = t
		e.namespace(chartrepo.DefaultNamespace)
		store := chartrepo.NewStore(e.c)
		chartData, _ := fluxtest.Chart("offline", "1.0.0")
		entry, changed, err := store.Push(ctx, chartData, chartrepo.PushOptions{})
		if err != nil || !changed || entry.Name != "offline" || entry.Version != "1.0.0" {
			t.Fatalf("push: %+v %v %v", entry, changed, err)
		}
		if _, changed, err := store.Push(ctx, chartData, chartrepo.PushOptions{}); err != nil || changed {
			t.Fatalf("same push again: changed %v, %v", changed, err)
		}
		other, _ := fluxtest.Chart("offline", "1.0.0")
		other = append(other[:len(other):len(other)], 0) // different bytes; still must load
		if _, _, err := store.Push(ctx, []byte("not a chart"), chartrepo.PushOptions{}); err == nil || !strings.Contains(err.Error(), "not a Helm chart archive") {
			t.Fatalf("garbage push: %v", err)
		}
		_ = other
		st, _ := storage.New(t.TempDir(), "http://localhost")
		srv := httptest.NewServer(manager.Handler(st, store))
		defer srv.Close()
		ns := e.namespace("offline")
		e.create(helmRepo(ns, "velad", srv.URL+"/"))
		hr := helmRelease(ns, "offline", "velad", "1.x", "")
		hr.Spec.Chart.Spec.Chart = "offline"
		e.create(hr)
		until(e, hr, "installed from the in-cluster repository", readyWith(helmv2.InstallSucceededReason))
		list, err := store.List(ctx)
		if err != nil || len(list) != 1 || list[0].Digest != entry.Digest {
			t.Fatalf("list: %+v %v", list, err)
		}
	})
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
