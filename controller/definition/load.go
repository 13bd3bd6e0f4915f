package definition

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// ParseYAML reads definitions from a Kubernetes YAML stream (one or more
// documents): ComponentDefinition, TraitDefinition, PolicyDefinition,
// WorkflowStepDefinition and DefinitionRevision objects. Other kinds are
// an error.
func ParseYAML(filename string, data []byte) ([]*Definition, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*Definition
	for i := 1; ; i++ {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: document %d: invalid YAML: %w", filename, i, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		d, err := fromUnstructured(&u, fmt.Sprintf("%s (document %d)", filename, i))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func fromUnstructured(u *unstructured.Unstructured, source string) (*Definition, error) {
	gv := u.GroupVersionKind()
	if gv.Group != v1beta1.Group {
		return nil, fmt.Errorf("%s: %s %q is not a definition: want apiVersion %s", source, gv.Kind, u.GetName(), v1beta1.GroupVersion)
	}
	raw, err := u.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var obj client.Object
	switch gv.Kind {
	case v1beta1.ComponentDefinitionKind:
		obj = &v1beta1.ComponentDefinition{}
	case v1beta1.TraitDefinitionKind:
		obj = &v1beta1.TraitDefinition{}
	case v1beta1.PolicyDefinitionKind:
		obj = &v1beta1.PolicyDefinition{}
	case v1beta1.WorkflowStepDefinitionKind:
		obj = &v1beta1.WorkflowStepDefinition{}
	case v1beta1.DefinitionRevisionKind:
		var rev v1beta1.DefinitionRevision
		if err := yaml.Unmarshal(raw, &rev); err != nil {
			return nil, fmt.Errorf("%s: decode DefinitionRevision: %w", source, err)
		}
		return fromRevision(&rev, source)
	default:
		return nil, fmt.Errorf("%s: kind %s is not a definition: want ComponentDefinition, TraitDefinition, PolicyDefinition, WorkflowStepDefinition or DefinitionRevision", source, gv.Kind)
	}
	if err := yaml.UnmarshalStrict(raw, obj); err != nil {
		return nil, fmt.Errorf("%s: decode %s %q: %w", source, gv.Kind, u.GetName(), err)
	}
	return FromObject(obj, source)
}

func fromRevision(rev *v1beta1.DefinitionRevision, source string) (*Definition, error) {
	var obj client.Object
	switch {
	case rev.Spec.ComponentDefinition != nil:
		obj = rev.Spec.ComponentDefinition
	case rev.Spec.TraitDefinition != nil:
		obj = rev.Spec.TraitDefinition
	case rev.Spec.PolicyDefinition != nil:
		obj = rev.Spec.PolicyDefinition
	case rev.Spec.WorkflowStepDefinition != nil:
		obj = rev.Spec.WorkflowStepDefinition
	default:
		return nil, fmt.Errorf("%s: DefinitionRevision %q holds no definition", source, rev.Name)
	}
	d, err := FromObject(obj, source)
	if err != nil {
		return nil, err
	}
	d.Revision = rev.Spec.Revision
	return d, nil
}

// ParseFile parses one definition file by extension: `.cue` in the
// definition file format, `.yaml`/`.yml`/`.json` as Kubernetes objects.
func ParseFile(filename string, data []byte) ([]*Definition, error) {
	switch strings.ToLower(filepath.Ext(filename)) {
	case ".cue":
		d, err := ParseCUE(filename, data)
		if err != nil {
			return nil, err
		}
		return []*Definition{d}, nil
	case ".yaml", ".yml", ".json":
		return ParseYAML(filename, data)
	}
	return nil, fmt.Errorf("%s: unknown definition file type: want .cue, .yaml, .yml or .json", filename)
}

// Files lists the definition files of paths: a file is itself, a
// directory is walked for .cue/.yaml/.yml/.json files (in lexical order).
func Files(paths ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read definitions: %w", err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".cue", ".yaml", ".yml", ".json":
				if !de.IsDir() {
					files = append(files, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read definitions from %s: %w", p, err)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// LoadPaths reads definitions from files and directories (see Files).
func LoadPaths(paths ...string) ([]*Definition, error) {
	files, err := Files(paths...)
	if err != nil {
		return nil, err
	}
	var out []*Definition
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read definitions: %w", err)
		}
		defs, err := ParseFile(f, data)
		if err != nil {
			return nil, err
		}
		out = append(out, defs...)
	}
	return out, nil
}

// LoadFS parses every .cue file at the top of fsys (used for embedded
// built-ins).
func LoadFS(fsys fs.FS, source string) ([]*Definition, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []*Definition
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".cue") {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		d, err := ParseCUE(e.Name(), data)
		if err != nil {
			return nil, err
		}
		d.Source = source
		out = append(out, d)
	}
	return out, nil
}

// MarshalYAML renders the definition's CRD object as YAML ready to apply.
func MarshalYAML(d *Definition) ([]byte, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d.Object)
	if err != nil {
		return nil, fmt.Errorf("marshal %s %q: %w", d.Kind.CRDKind(), d.Name, err)
	}
	// Status and server-set metadata do not belong in a manifest to apply.
	delete(u, "status")
	detabStrings(u)
	if meta, ok := u["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	b, err := yaml.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("marshal %s %q: %w", d.Kind.CRDKind(), d.Name, err)
	}
	return b, nil
}

// detabStrings rewrites leading tabs of multi-line strings (CUE sources)
// as spaces, so YAML can print them as readable literal blocks.
func detabStrings(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok {
				x[k] = detab(s)
			} else {
				detabStrings(e)
			}
		}
	case []any:
		for _, e := range x {
			detabStrings(e)
		}
	}
}

func detab(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		lines[i] = strings.Repeat("    ", n) + l[n:]
	}
	return strings.Join(lines, "\n")
}
