package addons_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
)

// The registry velad carries loads, and fluxcd is in it as the issue and
// the install need it.
func TestEmbeddedRegistry(t *testing.T) {
	reg, err := addons.Load()
	if err != nil {
		t.Fatal(err)
	}
	flux, err := reg.Get("fluxcd")
	if err != nil {
		t.Fatal(err)
	}
	if !flux.Default || flux.Namespace != "flux-system" || flux.ReleaseName() != "fluxcd" {
		t.Errorf("fluxcd = %+v", flux)
	}
	if got := reg.Provider(definition.KindComponent, "helm"); got != "fluxcd" {
		t.Errorf("the helm component comes from %q, want fluxcd", got)
	}
	if _, err := flux.LoadChart(); err != nil {
		t.Errorf("fluxcd's chart: %v", err)
	}
	if d := reg.Defaults(); len(d) == 0 || d[0] != "fluxcd" {
		t.Errorf("defaults = %v", d)
	}
}

// No addon definition takes the name of a built-in: enabling an addon
// never changes what an existing app renders to.
func TestAddonDefinitionsDoNotShadowBuiltins(t *testing.T) {
	reg, err := addons.Load()
	if err != nil {
		t.Fatal(err)
	}
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range reg.List() {
		for _, d := range a.Definitions() {
			if _, err := builtins.Lookup(t.Context(), d.Kind, d.Name, 0); err == nil {
				t.Errorf("addon %s: %s %q is also a built-in", a.Name, d.Kind, d.Name)
			}
		}
	}
}

// files builds an addons FS and a charts FS from short descriptions:
// addon name → addon.yaml body; a chart per addon at version 1.0.0 unless
// the metadata names another chart.
func files(addonYAML map[string]string, extra map[string]string) (fstest.MapFS, fstest.MapFS) {
	af, cf := fstest.MapFS{}, fstest.MapFS{}
	for name, body := range addonYAML {
		af[name+"/addon.yaml"] = &fstest.MapFile{Data: []byte(body)}
		cf[name+"/Chart.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v2\nname: " + name + "\nversion: 1.0.0\n")}
	}
	for p, body := range extra {
		if strings.HasPrefix(p, "charts/") {
			cf[strings.TrimPrefix(p, "charts/")] = &fstest.MapFile{Data: []byte(body)}
		} else {
			af[p] = &fstest.MapFile{Data: []byte(body)}
		}
	}
	return af, cf
}

func meta(name string, more string) string {
	return "name: " + name + "\nversion: 1.0.0\ndescription: the " + name + " addon\nchart: " + name + "\nnamespace: " + name + "-system\n" + more
}

const cueDef = `"%s": {
	type: "trait"
	description: "x"
}
template: {
	patch: metadata: labels: x: parameter.x
	parameter: x: string
}
`

func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		addons map[string]string
		extra  map[string]string
		want   []string // every one must be in the error; none: valid
	}{
		{name: "valid", addons: map[string]string{"a": meta("a", "default: true\nimages: [{name: a-ctrl, value: image}]\nhealth: {deployments: [a]}\n"), "b": meta("b", "dependencies: [a]\n")}},
		{name: "unknown field", addons: map[string]string{"a": meta("a", "defualt: true\n")}, want: []string{"addon a", `unknown field "defualt"`}},
		{name: "name differs from folder", addons: map[string]string{"a": strings.Replace(meta("a", ""), "name: a", "name: b", 1)}, want: []string{`name "b" differs`}},
		{name: "bad name", addons: map[string]string{"A_1": meta("A_1", "")}, want: []string{`name "A_1"`}},
		{name: "bad version", addons: map[string]string{"a": strings.Replace(meta("a", ""), "version: 1.0.0", "version: one", 1)}, want: []string{`version "one"`}},
		{name: "no description", addons: map[string]string{"a": strings.Replace(meta("a", ""), "description: the a addon", "description: ' '", 1)}, want: []string{"description is empty"}},
		{name: "no namespace", addons: map[string]string{"a": strings.Replace(meta("a", ""), "namespace: a-system", "", 1)}, want: []string{"namespace is empty"}},
		{name: "unknown dependency", addons: map[string]string{"a": meta("a", "dependencies: [ingress]\n")}, want: []string{`dependency "ingress" is not an addon`}},
		{name: "self dependency", addons: map[string]string{"a": meta("a", "dependencies: [a]\n")}, want: []string{"depends on itself"}},
		{
			name:   "cycle",
			addons: map[string]string{"a": meta("a", "dependencies: [b]\n"), "b": meta("b", "dependencies: [c]\n"), "c": meta("c", "dependencies: [a]\n")},
			want:   []string{"cycle: a → b → c → a"},
		},
		{name: "image without value", addons: map[string]string{"a": meta("a", "images: [{name: x}]\n")}, want: []string{`image "x": value ""`}},
		{name: "image twice", addons: map[string]string{"a": meta("a", "images: [{name: x, value: image}, {name: x, value: other}]\n")}, want: []string{`image "x" listed twice`}},
		{name: "missing chart", addons: map[string]string{"a": strings.Replace(meta("a", ""), "chart: a", "chart: nope", 1)}, want: []string{`chart "nope"`, "charts/charts.go"}},
		{name: "chart version differs", addons: map[string]string{"a": meta("a", "")}, extra: map[string]string{"charts/a/Chart.yaml": "apiVersion: v2\nname: a\nversion: 2.0.0\n"}, want: []string{"version 2.0.0", "keep them equal"}},
		{name: "chart outside charts", addons: map[string]string{"a": strings.Replace(meta("a", ""), "chart: a", "chart: ../a", 1)}, want: []string{`chart "../a"`}},
		{name: "long release", addons: map[string]string{"a": meta("a", "release: "+strings.Repeat("r", 54)+"\n")}, want: []string{"longer than Helm's 53"}},
		{
			name:   "definition in two addons",
			addons: map[string]string{"a": meta("a", ""), "b": meta("b", "")},
			extra:  map[string]string{"a/definitions/t.cue": strings.Replace(cueDef, "%s", "mark", 1), "b/definitions/t.cue": strings.Replace(cueDef, "%s", "mark", 1)},
			want:   []string{`addon b: trait "mark" is also defined by addon a`},
		},
		{name: "broken definition", addons: map[string]string{"a": meta("a", "")}, extra: map[string]string{"a/definitions/t.cue": "\"x\": {type: \"trait\"\n"}, want: []string{"addon a: definitions"}},
		{
			name:   "several problems at once",
			addons: map[string]string{"a": strings.Replace(meta("a", "dependencies: [zz]\n"), "version: 1.0.0", "version: v1", 1)},
			want:   []string{`version "v1"`, `dependency "zz"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			af, cf := files(tc.addons, tc.extra)
			_, err := addons.LoadFS(af, cf)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid registry refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid registry accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestOrder(t *testing.T) {
	af, cf := files(map[string]string{
		"flux":    meta("flux", "default: true\n"),
		"ingress": meta("ingress", "default: true\n"),
		"rollout": meta("rollout", "default: true\ndependencies: [flux, ingress]\n"),
		"canary":  meta("canary", "dependencies: [rollout]\n"),
		"extra":   meta("extra", ""),
	}, nil)
	reg, err := addons.LoadFS(af, cf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"flux"}, "flux"},
		{[]string{"rollout"}, "flux ingress rollout"},
		{[]string{"canary"}, "flux ingress rollout canary"},
		{[]string{"canary", "flux", "extra"}, "flux ingress rollout canary extra"},
		{reg.Defaults(), "flux ingress rollout"},
		{[]string{"ingress", "rollout", "ingress"}, "ingress flux rollout"},
	} {
		order, err := reg.Order(tc.names...)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range order {
			got = append(got, a.Name)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Order(%v) = %v, want %s", tc.names, got, tc.want)
		}
	}
	if got := strings.Join(reg.Dependents("flux"), " "); got != "canary rollout" {
		t.Errorf("dependents of flux = %s", got)
	}
	if got := reg.Dependents("extra"); len(got) != 0 {
		t.Errorf("dependents of extra = %v", got)
	}
	if _, err := reg.Order("nope"); !errors.Is(err, addons.ErrUnknown) || !strings.Contains(err.Error(), "canary, extra, flux, ingress, rollout") {
		t.Errorf("unknown addon: %v", err)
	}
}

func TestSelect(t *testing.T) {
	af, cf := files(map[string]string{
		"flux":    meta("flux", "default: true\n"),
		"ingress": meta("ingress", "default: true\n"),
		"rollout": meta("rollout", "default: true\ndependencies: [flux]\n"),
		"extra":   meta("extra", "dependencies: [flux]\n"),
	}, nil)
	reg, err := addons.LoadFS(af, cf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		disabled []string
		want     string
		wantErr  string
	}{
		{want: "flux ingress rollout"},
		{disabled: []string{"ingress"}, want: "flux rollout"},
		{disabled: []string{"rollout", "flux"}, want: "ingress"},
		{disabled: []string{"extra"}, want: "flux ingress rollout"}, // not a default: nothing to leave out
		{disabled: []string{"flux"}, wantErr: "addon flux cannot be left out: rollout depends on it"},
		{disabled: []string{"traefik"}, wantErr: `unknown addon "traefik"`},
	} {
		got, err := reg.Select(tc.disabled)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Select(%v) = %v, %v; want error %q", tc.disabled, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("Select(%v) = %v, %v; want %s", tc.disabled, got, err, tc.want)
		}
	}
}
