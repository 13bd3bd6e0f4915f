package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// ParseApplication reads one Application from YAML or JSON. Anything else
// (another kind, several documents, unknown fields) is an error that says
// what was found.
func ParseApplication(data []byte) (*v1beta1.Application, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var apps []*v1beta1.Application
	for i := 1; ; i++ {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("parse application: document %d: invalid YAML: %w", i, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		gvk := u.GroupVersionKind()
		if gvk.Kind != v1beta1.ApplicationKind || gvk.Group != v1beta1.Group {
			kind := gvk.Kind
			if kind == "" {
				kind = "an object without kind"
			}
			return nil, fmt.Errorf("parse application: document %d is %s (apiVersion %q), not an Application: want apiVersion: %s and kind: Application",
				i, kind, u.GetAPIVersion(), v1beta1.GroupVersion)
		}
		if gvk.Version != v1beta1.Version {
			return nil, fmt.Errorf("parse application: apiVersion %s is not supported: want %s", u.GetAPIVersion(), v1beta1.GroupVersion)
		}
		raw, err := u.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("parse application: %w", err)
		}
		var app v1beta1.Application
		if err := yaml.UnmarshalStrict(raw, &app); err != nil {
			return nil, fmt.Errorf("parse application %q: %w", u.GetName(), err)
		}
		apps = append(apps, &app)
	}
	switch len(apps) {
	case 0:
		return nil, errors.New("parse application: no Application found in the input")
	case 1:
		if apps[0].Name == "" {
			return nil, errors.New("parse application: metadata.name is empty")
		}
		return apps[0], nil
	}
	return nil, fmt.Errorf("parse application: found %d Applications, want one", len(apps))
}

// WriteYAML writes rendered components in the layout of KubeVela's
// dry-run: a `# Application(app) -- Component(name)` header per
// component, the workload, then each other object under `## From the
// auxiliary workload` (the component's own outputs) or `## From the
// trait TYPE`.
func WriteYAML(w io.Writer, app *v1beta1.Application, comps []RenderedComponent) error {
	return WriteYAMLTitled(w, app.Name, comps)
}

// WriteYAMLTitled is WriteYAML with the application's part of the
// headers given (KubeVela writes "app with topology T" for a deploy step).
func WriteYAMLTitled(w io.Writer, title string, comps []RenderedComponent) error {
	var b bytes.Buffer
	for _, c := range comps {
		name := c.Name
		if c.ReplicaKey != "" {
			name = fmt.Sprintf("%s) -- ReplicaKey(%s", c.Name, c.ReplicaKey)
		}
		fmt.Fprintf(&b, "---\n# Application(%s) -- Component(%s)\n---\n\n", title, name)
		if c.Workload != nil {
			if err := writeObject(&b, c.Workload); err != nil {
				return err
			}
		}
		for _, a := range c.Auxiliaries {
			if a.Trait == "" {
				b.WriteString("## From the auxiliary workload\n")
			} else {
				fmt.Fprintf(&b, "## From the trait %s\n", a.Trait)
			}
			if err := writeObject(&b, a.Object); err != nil {
				return err
			}
		}
		for _, t := range c.Traits {
			if t.Skipped {
				fmt.Fprintf(&b, "## Trait %s (PostDispatch) is rendered after the workload is applied\n", t.Type)
			}
		}
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeObject writes one object and the document separator after it.
func writeObject(w io.Writer, u *unstructured.Unstructured) error {
	b, err := yaml.Marshal(u.Object)
	if err != nil {
		return fmt.Errorf("marshal %s %q: %w", u.GetKind(), u.GetName(), err)
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n---\n")
	return err
}
