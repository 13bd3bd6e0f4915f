package definition

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// header is the metadata block of a `.cue` definition file:
//
//	"webservice": {
//		type: "component"
//		description: "..."
//		attributes: {...}
//	}
type header struct {
	Type        string            `json:"type"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Attributes  attributes        `json:"attributes,omitempty"`
}

// attributes is the union of every kind's spec fields as written in a
// `.cue` file (the spec minus schematic and status).
type attributes struct {
	// component
	Workload           *v1beta1.WorkloadTypeDescriptor `json:"workload,omitempty"`
	PodSpecPath        string                          `json:"podSpecPath,omitempty"`
	ChildResourceKinds []v1beta1.ChildResourceKind     `json:"childResourceKinds,omitempty"`
	// trait
	AppliesToWorkloads []string `json:"appliesToWorkloads,omitempty"`
	ConflictsWith      []string `json:"conflictsWith,omitempty"`
	PodDisruptive      bool     `json:"podDisruptive,omitempty"`
	WorkloadRefPath    string   `json:"workloadRefPath,omitempty"`
	RevisionEnabled    bool     `json:"revisionEnabled,omitempty"`
	ManageWorkload     bool     `json:"manageWorkload,omitempty"`
	ControlPlaneOnly   bool     `json:"controlPlaneOnly,omitempty"`
	Stage              string   `json:"stage,omitempty"`
	// policy
	ManageHealthCheck bool  `json:"manageHealthCheck,omitempty"`
	Global            bool  `json:"global,omitempty"`
	Priority          int32 `json:"priority,omitempty"`
}

// ParseCUE parses a definition written in the `.cue` definition file
// format into its typed CRD object (in namespace vela-system). Errors
// carry file:line:column.
func ParseCUE(filename string, src []byte) (*Definition, error) {
	f, err := parser.ParseFile(filename, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %s", filename, ErrorDetails(err))
	}
	var (
		imports  []ast.Decl
		hdrField *ast.Field
		tmpl     *ast.StructLit
	)
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.ImportDecl:
			imports = append(imports, d)
		case *ast.Package, *ast.CommentGroup, *ast.Attribute:
		case *ast.Field:
			name, _, lerr := ast.LabelName(d.Label)
			if lerr != nil {
				return nil, fmt.Errorf("%s: invalid top-level label: %s", position(filename, d), lerr)
			}
			if name == "template" {
				s, ok := d.Value.(*ast.StructLit)
				if !ok {
					return nil, fmt.Errorf("%s: template must be a struct { ... }", position(filename, d))
				}
				tmpl = s
				continue
			}
			if hdrField != nil {
				return nil, fmt.Errorf("%s: unexpected top-level field %q: a definition file has one header field and a template", position(filename, d), name)
			}
			hdrField = d
		default:
			return nil, fmt.Errorf("%s: unexpected top-level declaration: a definition file has one header field and a template", position(filename, decl))
		}
	}
	if hdrField == nil {
		return nil, fmt.Errorf("%s: no definition header: want `\"NAME\": { type: \"component\", ... }`", filename)
	}
	if tmpl == nil {
		return nil, fmt.Errorf("%s: no template: want `template: { ... }`", filename)
	}
	name, _, _ := ast.LabelName(hdrField.Label)

	hdrStruct, ok := hdrField.Value.(*ast.StructLit)
	if !ok {
		return nil, fmt.Errorf("%s: header of %q must be a struct { ... }", position(filename, hdrField), name)
	}
	status, err := extractStatus(filename, hdrStruct)
	if err != nil {
		return nil, err
	}
	v := cuecontext.New().BuildExpr(hdrStruct, cue.Filename(filename))
	if err := v.Validate(cue.Concrete(true)); err != nil {
		return nil, fmt.Errorf("header of %q: %s", name, ErrorDetails(err))
	}
	var h header
	if err := v.Decode(&h); err != nil {
		return nil, fmt.Errorf("header of %q: %s", name, ErrorDetails(err))
	}
	kind, err := ParseKind(h.Type)
	if err != nil {
		return nil, fmt.Errorf("%s: definition %q: %w", position(filename, hdrField), name, err)
	}

	body := &ast.File{Decls: append(append([]ast.Decl{}, imports...), tmpl.Elts...)}
	tsrc, err := format.Node(body)
	if err != nil {
		return nil, fmt.Errorf("format template of %q: %w", name, err)
	}

	obj := newObject(kind, name, DefaultNamespace)
	annotations := map[string]string{}
	for k, val := range h.Annotations {
		annotations[k] = val
	}
	if h.Description != "" {
		annotations[AnnotationDescription] = h.Description
	}
	if len(annotations) > 0 {
		obj.SetAnnotations(annotations)
	}
	if len(h.Labels) > 0 {
		obj.SetLabels(h.Labels)
	}
	schematic := &v1beta1.Schematic{CUE: &v1beta1.CUE{Template: string(tsrc)}}
	a := h.Attributes
	switch o := obj.(type) {
	case *v1beta1.ComponentDefinition:
		if a.Workload != nil {
			o.Spec.Workload = *a.Workload
		}
		o.Spec.PodSpecPath = a.PodSpecPath
		o.Spec.ChildResourceKinds = a.ChildResourceKinds
		o.Spec.Status = status
		o.Spec.Schematic = schematic
	case *v1beta1.TraitDefinition:
		o.Spec.AppliesToWorkloads = a.AppliesToWorkloads
		o.Spec.ConflictsWith = a.ConflictsWith
		o.Spec.PodDisruptive = a.PodDisruptive
		o.Spec.WorkloadRefPath = a.WorkloadRefPath
		o.Spec.RevisionEnabled = a.RevisionEnabled
		o.Spec.ManageWorkload = a.ManageWorkload
		o.Spec.ControlPlaneOnly = a.ControlPlaneOnly
		o.Spec.Stage = a.Stage
		o.Spec.Status = status
		o.Spec.Schematic = schematic
	case *v1beta1.PolicyDefinition:
		o.Spec.ManageHealthCheck = a.ManageHealthCheck
		o.Spec.Global = a.Global
		o.Spec.Priority = a.Priority
		o.Spec.Schematic = schematic
	case *v1beta1.WorkflowStepDefinition:
		o.Spec.Schematic = schematic
	}
	return &Definition{Kind: kind, Name: name, Object: obj, Source: filename}, nil
}

// extractStatus removes attributes.status from the header AST and returns
// its CUE snippets. Each of healthPolicy, customStatus and details may be a
// string literal or an inline CUE struct.
func extractStatus(filename string, hdr *ast.StructLit) (*v1beta1.Status, error) {
	attrs := fieldStruct(hdr, "attributes")
	if attrs == nil {
		return nil, nil
	}
	var st *v1beta1.Status
	for i, e := range attrs.Elts {
		f, ok := e.(*ast.Field)
		if !ok {
			continue
		}
		if n, _, _ := ast.LabelName(f.Label); n != "status" {
			continue
		}
		s, ok := f.Value.(*ast.StructLit)
		if !ok {
			return nil, fmt.Errorf("%s: attributes.status must be a struct", position(filename, f))
		}
		st = &v1beta1.Status{}
		for _, se := range s.Elts {
			sf, ok := se.(*ast.Field)
			if !ok {
				continue
			}
			n, _, _ := ast.LabelName(sf.Label)
			text, err := snippet(sf.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: attributes.status.%s: %w", position(filename, sf), n, err)
			}
			switch n {
			case "healthPolicy":
				st.HealthPolicy = text
			case "customStatus":
				st.CustomStatus = text
			case "details":
				st.Details = text
			default:
				return nil, fmt.Errorf("%s: unknown field attributes.status.%s: want healthPolicy, customStatus or details", position(filename, sf), n)
			}
		}
		attrs.Elts = append(attrs.Elts[:i:i], attrs.Elts[i+1:]...)
		break
	}
	return st, nil
}

func fieldStruct(s *ast.StructLit, name string) *ast.StructLit {
	for _, e := range s.Elts {
		if f, ok := e.(*ast.Field); ok {
			if n, _, _ := ast.LabelName(f.Label); n == name {
				st, _ := f.Value.(*ast.StructLit)
				return st
			}
		}
	}
	return nil
}

// snippet returns the CUE source held by a status field: the contents of a
// string literal, or the formatted elements of a struct.
func snippet(e ast.Expr) (string, error) {
	switch x := e.(type) {
	case *ast.BasicLit:
		s, err := literal.Unquote(x.Value)
		if err != nil {
			return "", fmt.Errorf("invalid string: %w", err)
		}
		return strings.TrimSpace(s), nil
	case *ast.StructLit:
		b, err := format.Node(&ast.File{Decls: x.Elts})
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", fmt.Errorf("want a string or a struct")
}

func position(filename string, n ast.Node) string {
	p := n.Pos()
	if !p.IsValid() {
		return filename
	}
	return fmt.Sprintf("%s:%d:%d", filename, p.Line(), p.Column())
}

// ErrorDetails flattens a CUE error into "file:line:col: message" lines
// (without the long position lists CUE prints by default).
func ErrorDetails(err error) string {
	var parts []string
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if strings.HasSuffix(msg, "errors in empty disjunction:") {
			continue // a summary of the errors that follow
		}
		if path := e.Path(); len(path) > 0 && !strings.Contains(msg, strings.Join(path, ".")) {
			msg = strings.Join(path, ".") + ": " + msg
		}
		p := e.Position()
		if !p.IsValid() {
			if in := e.InputPositions(); len(in) > 0 {
				p = in[0]
			}
		}
		if p.IsValid() {
			msg = fmt.Sprintf("%s:%d:%d: %s", p.Filename(), p.Line(), p.Column(), msg)
		}
		parts = append(parts, msg)
	}
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, "; ")
}

// FormatCUE writes a definition in the `.cue` definition file format, the
// inverse of ParseCUE.
func FormatCUE(d *Definition) ([]byte, error) {
	h := map[string]any{"type": string(d.Kind)}
	if desc := d.Description(); desc != "" {
		h["description"] = desc
	}
	ann := map[string]string{}
	for k, v := range d.Object.GetAnnotations() {
		if k != AnnotationDescription {
			ann[k] = v
		}
	}
	if len(ann) > 0 {
		h["annotations"] = ann
	}
	if l := d.Object.GetLabels(); len(l) > 0 {
		h["labels"] = l
	}
	var a attributes
	var status *v1beta1.Status
	switch o := d.Object.(type) {
	case *v1beta1.ComponentDefinition:
		if o.Spec.Workload != (v1beta1.WorkloadTypeDescriptor{}) {
			w := o.Spec.Workload
			a.Workload = &w
		}
		a.PodSpecPath = o.Spec.PodSpecPath
		a.ChildResourceKinds = o.Spec.ChildResourceKinds
		status = o.Spec.Status
	case *v1beta1.TraitDefinition:
		s := o.Spec
		a.AppliesToWorkloads, a.ConflictsWith, a.PodDisruptive = s.AppliesToWorkloads, s.ConflictsWith, s.PodDisruptive
		a.WorkloadRefPath, a.RevisionEnabled, a.ManageWorkload = s.WorkloadRefPath, s.RevisionEnabled, s.ManageWorkload
		a.ControlPlaneOnly, a.Stage = s.ControlPlaneOnly, s.Stage
		status = s.Status
	case *v1beta1.PolicyDefinition:
		a.ManageHealthCheck, a.Global, a.Priority = o.Spec.ManageHealthCheck, o.Spec.Global, o.Spec.Priority
	}
	attrs := map[string]any{}
	raw, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &attrs); err != nil {
		return nil, err
	}
	if status != nil {
		sm := map[string]string{}
		for k, v := range map[string]string{"healthPolicy": status.HealthPolicy, "customStatus": status.CustomStatus, "details": status.Details} {
			if v != "" {
				sm[k] = v
			}
		}
		if len(sm) > 0 {
			attrs["status"] = sm
		}
	}
	if len(attrs) > 0 {
		h["attributes"] = attrs
	}

	ctx := cuecontext.New()
	hv := ctx.Encode(h)
	if hv.Err() != nil {
		return nil, hv.Err()
	}
	hexpr, ok := hv.Syntax(cue.Final()).(ast.Expr)
	if !ok {
		return nil, fmt.Errorf("encode header of %q", d.Name)
	}
	useMultiline(hexpr)

	tf, err := parser.ParseFile(d.Name+".cue", d.Template(), parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse template of %q: %s", d.Name, ErrorDetails(err))
	}
	var imports, body []ast.Decl
	for _, decl := range tf.Decls {
		switch decl.(type) {
		case *ast.ImportDecl:
			imports = append(imports, decl)
		case *ast.Package:
		default:
			body = append(body, decl)
		}
	}
	out := &ast.File{Decls: append(imports,
		&ast.Field{Label: ast.NewString(d.Name), Value: hexpr},
		&ast.Field{Label: ast.NewIdent("template"), Value: &ast.StructLit{Elts: body}},
	)}
	b, err := format.Node(out)
	if err != nil {
		return nil, fmt.Errorf("format definition %q: %w", d.Name, err)
	}
	return bytes.TrimLeft(b, "\n"), nil
}

// useMultiline rewrites string literals holding newlines as #"""..."""#
// blocks so CUE snippets stay readable.
func useMultiline(e ast.Expr) {
	ast.Walk(e, func(n ast.Node) bool {
		bl, ok := n.(*ast.BasicLit)
		if !ok {
			return true
		}
		s, err := literal.Unquote(bl.Value)
		if err != nil || !strings.Contains(s, "\n") {
			return true
		}
		bl.Value = literal.String.WithOptionalTabIndent(3).Quote(s)
		return true
	}, nil)
}
