package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/builtins"
	goldenfile "github.com/velad-dev/velad/internal/golden"
)

func run(t *testing.T, cmd *cobra.Command, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetIn(strings.NewReader(stdin))
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Assert(t, "testdata/"+name, []byte(got))
}

func TestDryRun(t *testing.T) {
	out, err := run(t, newDryRunCommand(), "", "-f", "testdata/app.yaml", "-d", "testdata/defs")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "app.golden.yaml", out)
	for _, want := range []string{"# Application(shop) -- Component(cart)", "# Application(shop) -- Component(settings)", "stamped-by: cli-test", "replicas: 2", "mode: demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestDryRunStdin(t *testing.T) {
	app, err := os.ReadFile("testdata/app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, newDryRunCommand(), string(app), "-f", "-", "-d", "testdata/defs/stamp.cue", "-d", "testdata/defs/config-map.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/app.golden.yaml")
	if out != string(want) {
		t.Errorf("stdin output differs from the file output:\n%s", out)
	}
}

func TestDryRunErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no file flag", nil, `required flag(s) "file" not set`},
		{"missing file", []string{"-f", "testdata/nope.yaml"}, "read application: open testdata/nope.yaml: no such file or directory"},
		{"not an application", []string{"-f", "testdata/defs/config-map.yaml"}, `testdata/defs/config-map.yaml: parse application: document 1 is ComponentDefinition (apiVersion "core.oam.dev/v1beta1"), not an Application: want apiVersion: core.oam.dev/v1beta1 and kind: Application`},
		{"without the user definitions", []string{"-f", "testdata/app.yaml"}, `render component "cart": trait "stamp": unknown trait type "stamp": no TraitDefinition with that name`},
		{"bad definition dir", []string{"-f", "testdata/app.yaml", "-d", "testdata/missing"}, "read definitions: stat testdata/missing: no such file or directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, newDryRunCommand(), "", tc.args...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestDefList(t *testing.T) {
	out, err := run(t, newDefCommand(), "", "list")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "def-list.golden.txt", out)
	defs, err := builtins.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "NAME") || strings.Count(out, "\n") != len(defs)+1 {
		t.Errorf("want a header and the %d built-ins:\n%s", len(defs), out)
	}
	out, err = run(t, newDefCommand(), "", "list", "-t", "policy", "-d", "testdata/defs")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "webservice") || !strings.Contains(out, "replication") {
		t.Errorf("--type policy:\n%s", out)
	}
}

func TestDefShow(t *testing.T) {
	out, err := run(t, newDefCommand(), "", "show", "webservice")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "def-show-webservice.golden.txt", out)
	for _, want := range []string{
		"webservice (component): ",
		"# Specification\n+--",
		"| image            | Container image to run",
		"| ports            | Ports the container listens on (default 80); exposed ones get a Service                          | [[]ports](#ports)",
		"## ports\n",
		"| protocol      | Protocol: UDP, TCP or SCTP                                                | \"TCP\"|\"UDP\"|\"SCTP\" | false    | TCP     |",
		"### valueFrom\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	out, err = run(t, newDefCommand(), "", "show", "stamp", "-d", "testdata/defs")
	if err != nil {
		t.Fatal(err)
	}
	want := `stamp (trait): Adds a stamped-by annotation.

# Specification
+------+----------------+--------+----------+---------+
| NAME |  DESCRIPTION   |  TYPE  | REQUIRED | DEFAULT |
+------+----------------+--------+----------+---------+
| by   | Who stamped it | string | true     |         |
+------+----------------+--------+----------+---------+

`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := run(t, newDefCommand(), "", "show", "nothing"); err == nil || err.Error() != "definition \"nothing\" not found: see `velad def list`" {
		t.Errorf("unknown name: %v", err)
	}
}

func TestDefVet(t *testing.T) {
	out, err := run(t, newDefCommand(), "", "vet", "testdata/defs/stamp.cue", "testdata/defs/config-map.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "testdata/defs/stamp.cue: trait \"stamp\" is valid\ntestdata/defs/config-map.yaml: component \"config-map\" is valid\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	out, err = run(t, newDefCommand(), "", "vet", "testdata/bad.cue")
	if err == nil || err.Error() != "1 of 1 files have errors" {
		t.Errorf("error = %v", err)
	}
	wantOut := "testdata/bad.cue:9:13: template.parameter.replicas: conflicting values \"two\" and 1 (mismatched types string and int); testdata/bad.cue:9:13: template.parameter.replicas: conflicting values \"two\" and int (mismatched types string and int)\n"
	if out != wantOut {
		t.Errorf("got\n%q\nwant\n%q", out, wantOut)
	}
}

func TestDefRender(t *testing.T) {
	out, err := run(t, newDefCommand(), "", "render", "testdata/defs/stamp.cue")
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: core.oam.dev/v1beta1
kind: TraitDefinition
metadata:
  annotations:
    definition.oam.dev/description: Adds a stamped-by annotation.
  name: stamp
  namespace: vela-system
spec:
  appliesToWorkloads:
  - '*'
  schematic:
    cue:
      template: |
        patch: metadata: annotations: "stamped-by": parameter.by
        parameter: {
            // +usage=Who stamped it
            by: string
        }
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestDefVetKubeVelaFolder vets a folder of definitions written in
// KubeVela's formats (the `.cue` definition file with imports of CUE's
// standard packages and vela/*, and YAML X-Definitions with
// spec.schematic.cue.template), and refuses a folder with broken ones,
// naming the file and the line.
func TestDefVetKubeVelaFolder(t *testing.T) {
	out, err := run(t, newDefCommand(), "", "vet", "testdata/kubevela-defs")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := `testdata/kubevela-defs/component/cache.yaml: component "cache" is valid
testdata/kubevela-defs/component/queue-worker.cue: component "queue-worker" is valid
testdata/kubevela-defs/policy/quiet-hours.cue: policy "quiet-hours" is valid
testdata/kubevela-defs/trait/drain-hook.cue: trait "drain-hook" is valid
testdata/kubevela-defs/trait/pod-labels.yaml: trait "pod-labels" is valid
testdata/kubevela-defs/workflowstep/wait-configmap.cue: workflow-step "wait-configmap" is valid
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}

	out, err = run(t, newDefCommand(), "", "vet", "testdata/kubevela-defs-broken")
	if err == nil || err.Error() != "2 of 3 files have errors" {
		t.Errorf("error = %v", err)
	}
	for _, line := range []string{
		`testdata/kubevela-defs-broken/good.cue: trait "good" is valid`,
		`testdata/kubevela-defs-broken/typo.cue:8:49: template.patch.metadata.labels.team: reference "paramter" not found`,
		`testdata/kubevela-defs-broken/unclosed.yaml: compile trait definition "unclosed"`,
		`expected '}', found 'EOF'`,
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}

	if _, err := run(t, newDefCommand(), "", "vet", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no definition files") {
		t.Errorf("empty folder: %v", err)
	}
}
