package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// bombTemplate explodes for a big count: a list.Range over a parameter.
const bombTemplate = `import "list"

output: {
	apiVersion: "v1"
	kind:       "ConfigMap"
	metadata: name: context.name
	data: count: "\(len(list.Range(0, parameter.count, 1)))"
}
parameter: count: int
`

// A definition whose CUE explodes for some input fails the app that uses
// it, naming the definition, while other apps keep reconciling; the same
// bomb submitted again fails again, and the controller (this process)
// never holds it.
func TestBombDefinitionFailsItsAppOnly(t *testing.T) {
	c, ns := start(t)
	def := &v1beta1.ComponentDefinition{}
	def.Name, def.Namespace = "bomb", ns
	def.Spec.Schematic = &v1beta1.Schematic{CUE: &v1beta1.CUE{Template: bombTemplate}}
	if err := c.Create(ctx, def); err != nil {
		t.Fatal(err)
	}
	bomb := func(name string, count int64) *v1beta1.Application {
		return parseApp(t, ns, fmt.Sprintf(`
metadata: {name: %s}
spec: {components: [{name: cm, type: bomb, properties: {count: %d}}]}
`, name, count))
	}
	if err := c.Create(ctx, bomb("small", 3)); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, c, ns, "small", v1beta1.ApplicationRunning)
	for i := range 3 {
		name := fmt.Sprintf("boom-%d", i)
		if err := c.Create(ctx, bomb(name, 1_000_000_000+int64(i))); err != nil {
			t.Fatal(err)
		}
		// Meanwhile an ordinary app is delivered.
		up(t, c, parseApp(t, ns, fmt.Sprintf(`
metadata: {name: web-%d}
spec: {components: [{name: web-%d, type: webservice, properties: {image: nginx}, traits: [{type: scaler, properties: {replicas: 0}}]}]}
`, i, i)))
	}
	for i := range 3 {
		name := fmt.Sprintf("boom-%d", i)
		eventually(t, name+" to fail over budget", func() (bool, string) {
			app := getApp(t, c, ns, name)
			for _, cond := range app.Status.Conditions {
				if strings.Contains(cond.Message, `component definition "bomb" is over its render budget`) {
					return app.Status.Phase == v1beta1.ApplicationWorkflowFailed, describe(app)
				}
			}
			return false, describe(app)
		})
		waitPhase(t, c, ns, fmt.Sprintf("web-%d", i), v1beta1.ApplicationRunning)
	}
	// The controller keeps reconciling: a change to the small app lands.
	small := getApp(t, c, ns, "small")
	small.Spec.Components[0].Properties = raw(`{"count": 4}`)
	if err := c.Update(ctx, small); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, c, ns, "small", v1beta1.ApplicationRunning)
}
