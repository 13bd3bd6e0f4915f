package render_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/render"
)

// TestMemo checks that remembered renders are equal to fresh ones, are
// not shared with callers, and are invalidated by any input change.
func TestMemo(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	app, err := render.ParseApplication([]byte(benchAppYAML()))
	if err != nil {
		t.Fatal(err)
	}
	fresh := render.NewRenderer()
	fresh.SetMemoSize(0)
	memo := render.NewRenderer()
	ctx := context.Background()
	yamlOf := func(r *render.Renderer) string {
		t.Helper()
		comps, err := r.RenderApp(ctx, app, builtins, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := render.WriteYAML(&b, app, comps); err != nil {
			t.Fatal(err)
		}
		// Callers may modify what they get; the memo must not see it.
		comps[0].Workload.SetName("changed-by-caller")
		comps[0].Auxiliaries[0].Object.SetName("changed-by-caller")
		return b.String()
	}
	want := yamlOf(fresh)
	if got := yamlOf(memo); got != want {
		t.Fatalf("first memo render differs from a fresh render")
	}
	if got := yamlOf(memo); got != want {
		t.Fatalf("remembered render differs from a fresh render:\n%s", got)
	}

	app.Spec.Components[1].Traits[0].Properties.Raw = []byte(`{"replicas":7}`)
	want = yamlOf(fresh)
	if got := yamlOf(memo); got != want {
		t.Fatalf("changed trait properties were not rendered again")
	}
	app.Labels = map[string]string{"tier": "gold"}
	want = yamlOf(fresh)
	if got := yamlOf(memo); got != want {
		t.Fatalf("changed app labels (context.appLabels) were not rendered again")
	}
}
