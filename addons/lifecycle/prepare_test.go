package lifecycle

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
)

func fluxcd(t *testing.T) *addons.Addon {
	t.Helper()
	reg, err := addons.Load()
	if err != nil {
		t.Fatal(err)
	}
	a, err := reg.Get("fluxcd")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func images(refs map[string]string) func(string) (string, error) {
	return func(name string) (string, error) {
		if r, ok := refs[name]; ok {
			return r, nil
		}
		return "", errors.New("no image " + name)
	}
}

const fluxRef = "docker.io/velad/fluxcd-controller:0.1.0-0123456789ab"

func TestPrepare(t *testing.T) {
	a := fluxcd(t)
	for _, tc := range []struct {
		name    string
		refs    map[string]string
		sets    []string
		want    string // YAML of the values
		wantErr []string
	}{
		{
			name: "image from the payload",
			refs: map[string]string{"fluxcd-controller": fluxRef},
			want: "image:\n  repository: docker.io/velad/fluxcd-controller\n  tag: 0.1.0-0123456789ab\n",
		},
		{
			name: "--set on top",
			refs: map[string]string{"fluxcd-controller": fluxRef},
			sets: []string{"concurrent=2", "image.tag=dev"},
			want: "concurrent: 2\nimage:\n  repository: docker.io/velad/fluxcd-controller\n  tag: dev\n",
		},
		{
			name: "registry with a port",
			refs: map[string]string{"fluxcd-controller": "localhost:5000/flux:v1"},
			want: "image:\n  repository: localhost:5000/flux\n  tag: v1\n",
		},
		{name: "image not carried", refs: map[string]string{}, wantErr: []string{"addon fluxcd", "no image fluxcd-controller"}},
		{name: "image without tag", refs: map[string]string{"fluxcd-controller": "localhost:5000/flux"}, wantErr: []string{"has no tag"}},
		{name: "unknown value", refs: map[string]string{"fluxcd-controller": fluxRef}, sets: []string{"concurency=2"}, wantErr: []string{"addon fluxcd", "concurency", "charts/fluxcd/values.yaml"}},
		{name: "wrong type", refs: map[string]string{"fluxcd-controller": fluxRef}, sets: []string{"concurrent=many"}, wantErr: []string{"concurrent"}},
		{name: "not key=value", refs: map[string]string{"fluxcd-controller": fluxRef}, sets: []string{"concurrent"}, wantErr: []string{`--set "concurrent"`, "key=value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Prepare(a, images(tc.refs), tc.sets)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("prepared: %v", p.Values)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not say %q: %v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := yaml.Marshal(p.Values)
			if string(got) != tc.want {
				t.Errorf("values:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// The digest changes with the values and the chart, and a release record
// (values read back from JSON) hashes as what was installed.
func TestDigest(t *testing.T) {
	a := fluxcd(t)
	refs := images(map[string]string{"fluxcd-controller": fluxRef})
	p1, err := Prepare(a, refs, []string{"concurrent=2"})
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := Prepare(a, refs, []string{"concurrent=2"})
	p3, _ := Prepare(a, refs, []string{"concurrent=3"})
	if p1.Digest != p2.Digest {
		t.Error("same chart and values, different digests")
	}
	if p1.Digest == p3.Digest {
		t.Error("other values, same digest")
	}
	var stored map[string]any // as Helm reads its record back: numbers are float64
	data, _ := yaml.Marshal(p1.Values)
	if err := yaml.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	if digest(p1.Chart, stored) != p1.Digest {
		t.Error("the values read back from a release record hash differently")
	}
	p2.Chart.Templates[0].Data = append(p2.Chart.Templates[0].Data, '\n')
	if digest(p2.Chart, p2.Values) == p1.Digest {
		t.Error("a changed template, same digest")
	}
}

func TestUsersOf(t *testing.T) {
	defs := []*definition.Definition{
		{Kind: definition.KindComponent, Name: "helm"},
		{Kind: definition.KindTrait, Name: "helm-labels"},
		{Kind: definition.KindWorkflowStep, Name: "canary"},
	}
	app := func(ns, name, spec string) v1beta1.Application {
		a := v1beta1.Application{}
		if err := yaml.UnmarshalStrict([]byte(spec), &a.Spec); err != nil {
			t.Fatal(err)
		}
		a.Namespace, a.Name = ns, name
		return a
	}
	apps := []v1beta1.Application{
		app("default", "web", `components: [{name: web, type: webservice, traits: [{type: scaler}]}]`),
		app("default", "charts", `components: [{name: db, type: helm}, {name: web, type: "helm@v2", traits: [{type: helm-labels}]}]`),
		app("edge", "labelled", `components: [{name: web, type: webservice, traits: [{type: helm-labels}]}]`),
		app("edge", "stepped", `{components: [{name: web, type: webservice}], workflow: {steps: [{name: g, type: step-group, subSteps: [{name: c, type: canary}]}]}}`),
		// A component type named like a trait the addon brings is not a use.
		app("edge", "other", `components: [{name: x, type: helm-labels}]`),
	}
	got := strings.Join(usersOf(apps, defs), "\n")
	want := strings.Join([]string{
		"default/charts (component db: helm, component web: helm@v2, trait helm-labels on web)",
		"edge/labelled (trait helm-labels on web)",
		"edge/stepped (step c: canary)",
	}, "\n")
	if got != want {
		t.Errorf("users:\n%s\nwant:\n%s", got, want)
	}
}

func TestInUseError(t *testing.T) {
	err := &InUseError{Addon: "fluxcd", Users: []string{"default/a (component c: helm)"}, Dependents: []string{"rollout"}}
	want := "addon fluxcd is in use (1 application(s) use its definitions: default/a (component c: helm); enabled addons depend on it: rollout); delete those first, or disable it anyway with --force"
	if err.Error() != want {
		t.Errorf("%s\nwant\n%s", err, want)
	}
}
