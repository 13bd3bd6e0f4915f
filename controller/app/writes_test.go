package app_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

// cmOrNil returns the ConfigMap or nil when it does not exist.
func cmOrNil(t *testing.T, c client.Client, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	return cm
}

// A read-only object is read, never written nor deleted; the app's other
// objects are applied and deleted as usual. A read-only object that does
// not exist fails the step, saying so.
func TestReadOnlyPolicy(t *testing.T) {
	c, ns := start(t)
	shared := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: ns}, Data: map[string]string{"a": "live"}}
	if err := c.Create(ctx, shared); err != nil {
		t.Fatal(err)
	}
	up(t, c, parseApp(t, ns, `
metadata: {name: reader}
spec:
  components:
  - name: cfg
    type: k8s-objects
    properties:
      objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: own}, data: {b: "1"}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: shared}, data: {a: rendered}}
  policies:
  - {name: hands-off, type: read-only, properties: {rules: [{selector: {resourceTypes: [ConfigMap], resourceNames: [shared]}}]}}
`))
	waitPhase(t, c, ns, "reader", v1beta1.ApplicationRunning)
	if own := cmOrNil(t, c, ns, "own"); own == nil || own.Data["b"] != "1" {
		t.Errorf("own ConfigMap %v, want applied", own)
	}
	got := cmOrNil(t, c, ns, "shared")
	if got.Data["a"] != "live" || got.Labels[v1beta1.LabelAppName] != "" || got.ResourceVersion != shared.ResourceVersion {
		t.Errorf("read-only ConfigMap was written: data %v labels %v resourceVersion %s (was %s)", got.Data, got.Labels, got.ResourceVersion, shared.ResourceVersion)
	}
	if err := appcli.Delete(ctx, c, ns, "reader", true, Wait); err != nil {
		t.Fatal(err)
	}
	if cmOrNil(t, c, ns, "own") != nil {
		t.Error("own ConfigMap not deleted with the app")
	}
	if cmOrNil(t, c, ns, "shared") == nil {
		t.Error("the read-only ConfigMap was deleted with the app")
	}

	up(t, c, parseApp(t, ns, `
metadata: {name: absent}
spec:
  components:
  - name: cfg
    type: k8s-objects
    properties:
      objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: nowhere}, data: {a: "1"}}
  policies:
  - {name: hands-off, type: read-only, properties: {rules: [{selector: {componentNames: [cfg]}}]}}
`))
	want := `component \"cfg\": ConfigMap ` + ns + `/nowhere is read-only to the application (a \"read-only\" policy selects it) and does not exist`
	eventually(t, "the step to fail on the missing read-only object", func() (bool, string) {
		d := describe(getApp(t, c, ns, "absent"))
		return strings.Contains(d, want), d
	})
	if cmOrNil(t, c, ns, "nowhere") != nil {
		t.Error("the missing read-only ConfigMap was created")
	}
}

// An object the app applied, made read-only by a later revision, is no
// longer the app's to delete: neither the garbage collection of the old
// revision nor the app's deletion removes it.
func TestReadOnlyLaterKeepsObject(t *testing.T) {
	c, ns := start(t)
	app := func(policies string) *v1beta1.Application {
		return parseApp(t, ns, `
metadata: {name: handover}
spec:
  components:
  - name: cfg
    type: k8s-objects
    properties:
      objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: kept}, data: {a: "1"}}
`+policies)
	}
	up(t, c, app(""))
	waitPhase(t, c, ns, "handover", v1beta1.ApplicationRunning)
	if cmOrNil(t, c, ns, "kept") == nil {
		t.Fatal("ConfigMap not applied")
	}
	up(t, c, app(`  policies:
  - {name: hands-off, type: read-only, properties: {rules: [{selector: {resourceNames: [kept]}}]}}
`))
	eventually(t, "the second revision running", func() (bool, string) {
		a := getApp(t, c, ns, "handover")
		return a.Status.Phase == v1beta1.ApplicationRunning && a.Status.LatestRevision != nil && a.Status.LatestRevision.Revision == 2 &&
			a.Status.ObservedGeneration == a.Generation, describe(a)
	})
	if cmOrNil(t, c, ns, "kept") == nil {
		t.Fatal("the ConfigMap made read-only was collected with the old revision")
	}
	if err := appcli.Delete(ctx, c, ns, "handover", true, Wait); err != nil {
		t.Fatal(err)
	}
	if cmOrNil(t, c, ns, "kept") == nil {
		t.Error("the ConfigMap made read-only was deleted with the app")
	}
}

// resource-update: op replace removes fields others added, patch keeps
// them; a change of a recreateFields field deletes the object and
// creates it again, a change elsewhere does not.
func TestResourceUpdatePolicy(t *testing.T) {
	c, ns := start(t)
	app := func(v, mode string) *v1beta1.Application {
		return parseApp(t, ns, fmt.Sprintf(`
metadata: {name: updates}
spec:
  components:
  - name: cfg
    type: k8s-objects
    properties:
      objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: replaced}, data: {v: "%[1]s"}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: patched}, data: {v: "%[1]s"}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: recreated}, data: {v: "%[1]s", mode: %[2]s}}
  policies:
  - name: how
    type: resource-update
    properties:
      rules:
      - {selector: {resourceNames: [replaced]}, strategy: {op: replace}}
      - {selector: {resourceNames: [recreated]}, strategy: {recreateFields: [data.mode]}}
`, v, mode))
	}
	up(t, c, app("1", "a"))
	waitPhase(t, c, ns, "updates", v1beta1.ApplicationRunning)
	// Someone else adds a key to two of them.
	for _, name := range []string{"replaced", "patched"} {
		cm := cmOrNil(t, c, ns, name)
		cm.Data["extra"] = "by hand"
		if err := c.Update(ctx, cm, client.FieldOwner("someone")); err != nil {
			t.Fatal(err)
		}
	}
	uid := cmOrNil(t, c, ns, "recreated").UID

	up(t, c, app("2", "a"))
	eventually(t, "v=2 everywhere", func() (bool, string) {
		s := ""
		for _, name := range []string{"replaced", "patched", "recreated"} {
			cm := cmOrNil(t, c, ns, name)
			if cm == nil || cm.Data["v"] != "2" {
				return false, fmt.Sprintf("%s: %v; %s", name, cm, describe(getApp(t, c, ns, "updates")))
			}
			s += fmt.Sprint(cm.Data)
		}
		return true, s
	})
	if cm := cmOrNil(t, c, ns, "replaced"); cm.Data["extra"] != "" {
		t.Errorf("replaced ConfigMap keeps a key the app does not render: %v", cm.Data)
	}
	if cm := cmOrNil(t, c, ns, "patched"); cm.Data["extra"] != "by hand" {
		t.Errorf("patched ConfigMap lost another manager's key: %v", cm.Data)
	}
	if cm := cmOrNil(t, c, ns, "recreated"); cm.UID != uid {
		t.Errorf("recreated ConfigMap was recreated though data.mode did not change")
	}

	up(t, c, app("2", "b"))
	eventually(t, "the ConfigMap recreated with mode b", func() (bool, string) {
		cm := cmOrNil(t, c, ns, "recreated")
		if cm == nil {
			return false, "gone"
		}
		return cm.UID != uid && cm.Data["mode"] == "b", fmt.Sprintf("uid %s data %v; %s", cm.UID, cm.Data, describe(getApp(t, c, ns, "updates")))
	})
	waitPhase(t, c, ns, "updates", v1beta1.ApplicationRunning)
}
