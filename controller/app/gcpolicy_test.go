package app_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/app"
	"github.com/velad-dev/velad/controller/appcli"
)

// gcApp is an app of the given workers (replicas 0) with policy YAML.
func gcApp(t *testing.T, ns, name string, components []string, policy string) *v1beta1.Application {
	y := fmt.Sprintf("metadata: {name: %s}\nspec:\n  components:\n", name)
	for _, c := range components {
		y += fmt.Sprintf("  - {name: %s, type: worker, properties: {image: busybox}, traits: [{type: scaler, properties: {replicas: 0}}]}\n", c)
	}
	return parseApp(t, ns, y+policy)
}

// waitCollected waits until the app ran garbage collection for revision.
func waitCollected(t *testing.T, c client.Client, ns, name, revision string) {
	t.Helper()
	eventually(t, "garbage collection of "+revision, func() (bool, string) {
		a := getApp(t, c, ns, name)
		cond := meta.FindStatusCondition(a.Status.Conditions, app.ConditionCollected)
		return cond != nil && cond.Message == revision, describe(a)
	})
}

func TestGarbageCollectPolicy(t *testing.T) {
	c, ns := start(t)
	exists := func(name string) bool { return deployment(t, c, ns, name) != nil }

	t.Run("rules", func(t *testing.T) {
		policy := `  policies:
  - name: gc
    type: garbage-collect
    properties:
      rules:
      - {selector: {componentNames: [keep-till-delete]}, strategy: onAppDelete}
      - {selector: {componentNames: [keep-forever]}, strategy: never}
`
		up(t, c, gcApp(t, ns, "rules", []string{"web", "gone", "keep-till-delete", "keep-forever"}, policy))
		waitPhase(t, c, ns, "rules", v1beta1.ApplicationRunning)
		up(t, c, gcApp(t, ns, "rules", []string{"web"}, policy))
		waitCollected(t, c, ns, "rules", "rules-v2")
		for name, want := range map[string]bool{"web": true, "gone": false, "keep-till-delete": true, "keep-forever": true} {
			if exists(name) != want {
				t.Errorf("after the update, deployment %s exists = %v, want %v", name, !want, want)
			}
		}
		if err := appcli.Delete(ctx, c, ns, "rules", true, Wait); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]bool{"web": false, "keep-till-delete": false, "keep-forever": true} {
			if exists(name) != want {
				t.Errorf("after deleting the app, deployment %s exists = %v, want %v", name, !want, want)
			}
		}
	})

	t.Run("keepLegacyResource", func(t *testing.T) {
		policy := `  policies:
  - {name: gc, type: garbage-collect, properties: {keepLegacyResource: true}}
`
		up(t, c, gcApp(t, ns, "legacy", []string{"legacy-a", "legacy-b"}, policy))
		waitPhase(t, c, ns, "legacy", v1beta1.ApplicationRunning)
		up(t, c, gcApp(t, ns, "legacy", []string{"legacy-a"}, policy))
		waitCollected(t, c, ns, "legacy", "legacy-v2")
		if !exists("legacy-b") {
			t.Error("keepLegacyResource: the removed component's deployment was deleted on update")
		}
		if err := appcli.Delete(ctx, c, ns, "legacy", true, Wait); err != nil {
			t.Fatal(err)
		}
		eventually(t, "legacy deployments deleted with the app", func() (bool, string) {
			return !exists("legacy-a") && !exists("legacy-b"), fmt.Sprintf("a=%v b=%v", exists("legacy-a"), exists("legacy-b"))
		})
	})
}
