package render

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"

	"github.com/velad-dev/velad/controller/patch"
	"github.com/velad-dev/velad/controller/workflow/cuepkg"
	"github.com/velad-dev/velad/controller/workflow/task"
)

// Actions in component templates. A template may import vela/helm and
// use helm.#Render (KubeVela's native helmchart component does): the
// chart is fetched and rendered while the template is evaluated, and the
// objects are filled into the action's $returns for output/outputs to
// use. Only that provider runs here, and it only reads (downloads and
// renders a chart, applies nothing); the other vela/* packages are for
// workflow steps. A download is bounded by task.HelmTimeout and
// task.MaxChartSize. The sandbox (budget.go) does not run actions: it
// bounds the CUE evaluation, the download has its own bounds.

// actionPackage is the one vela/* package a template that is not a
// workflow step may import.
const actionPackage = cuepkg.Prefix + "helm"

// maxTemplateActions bounds the actions one evaluation runs.
const maxTemplateActions = 8

// maxActionDepth bounds how deep actions are looked for.
const maxActionDepth = 6

// velaImports are the vela/* packages f imports.
func velaImports(f *ast.File) []string {
	var out []string
	for spec := range f.ImportSpecs() {
		if p, err := strconv.Unquote(spec.Path.Value); err == nil && cuepkg.IsPackage(p) {
			out = append(out, p)
		}
	}
	return out
}

// buildWithPackages compiles f, which imports vela/* packages: only
// vela/helm is allowed.
func (r *engine) buildWithPackages(f *ast.File, imports []string) (cue.Value, error) {
	for _, p := range imports {
		if p != actionPackage {
			return cue.Value{}, fmt.Errorf("import %q: only %q can be imported here (the other vela/* packages are for workflow steps)", p, actionPackage)
		}
	}
	return cuepkg.Build(r.cue, f)
}

// runActions runs the helm.#Render actions of v, a template unified with
// its inputs, and returns v with their results filled in.
func (r *engine) runActions(t *Template, v cue.Value, ctxMap map[string]any) (cue.Value, error) {
	done := map[string]bool{}
	for range maxTemplateActions + 1 {
		path, av, ok := nextAction(v, nil, 0, done)
		if !ok {
			return v, nil
		}
		if len(done) == maxTemplateActions {
			return cue.Value{}, fmt.Errorf("%s definition %q runs more than %d actions", t.Def.Kind, t.Def.Name, maxTemplateActions)
		}
		done[cue.MakePath(path...).String()] = true
		ret, err := r.runAction(t, path, av, ctxMap)
		if err != nil {
			return cue.Value{}, err
		}
		rv, err := r.toValue(ret)
		if err != nil {
			return cue.Value{}, fmt.Errorf("%s definition %q: %s: result: %w", t.Def.Kind, t.Def.Name, cue.MakePath(path...), err)
		}
		at := cue.MakePath(append(append([]cue.Selector{}, path...), cue.Str("$returns"))...)
		v = v.FillPath(at, rv)
		if err := v.LookupPath(at).Err(); err != nil {
			return cue.Value{}, fmt.Errorf("%s definition %q: %s: the result does not fit the template: %s", t.Def.Kind, t.Def.Name, cue.MakePath(path...), cueMessage(err, ""))
		}
	}
	return v, nil
}

// nextAction finds the first action (a value with #provider and #do) in
// v, hidden fields included, that is not done.
func nextAction(v cue.Value, path []cue.Selector, depth int, done map[string]bool) ([]cue.Selector, cue.Value, bool) {
	it, err := v.Fields(cue.Hidden(true), cue.Optional(false), cue.Definitions(false))
	if err != nil {
		return nil, cue.Value{}, false
	}
	for it.Next() {
		sel := it.Selector()
		if depth == 0 && (sel.String() == "parameter" || sel.String() == "context") {
			continue
		}
		p := append(append([]cue.Selector{}, path...), sel)
		fv := it.Value()
		if isAction(fv) {
			if !done[cue.MakePath(p...).String()] {
				return p, fv, true
			}
			continue
		}
		if depth < maxActionDepth && fv.IncompleteKind()&cue.StructKind != 0 {
			if ap, av, ok := nextAction(fv, p, depth+1, done); ok {
				return ap, av, true
			}
		}
	}
	return nil, cue.Value{}, false
}

func isAction(v cue.Value) bool {
	return v.LookupPath(cue.MakePath(cue.Def("#do"))).Exists() && v.LookupPath(cue.MakePath(cue.Def("#provider"))).Exists()
}

// runAction runs one action: helm.#Render, nothing else.
func (r *engine) runAction(t *Template, path []cue.Selector, v cue.Value, ctxMap map[string]any) (map[string]any, error) {
	what := fmt.Sprintf("%s definition %q: %s", t.Def.Kind, t.Def.Name, cue.MakePath(path...))
	provider, _ := v.LookupPath(cue.MakePath(cue.Def("#provider"))).String()
	do, _ := v.LookupPath(cue.MakePath(cue.Def("#do"))).String()
	if provider != "helm" || do != "render" {
		return nil, fmt.Errorf("%s: action %s.%s cannot run while rendering (only helm.#Render can; the others belong in workflow steps)", what, provider, do)
	}
	if r.noActions {
		return nil, errNoActions
	}
	pv := v.LookupPath(cue.ParsePath("$params"))
	if err := pv.Validate(cue.Concrete(true)); err != nil {
		return nil, fmt.Errorf("%s: helm.#Render parameters are not complete: %s", what, cueMessage(err, ""))
	}
	var req task.ChartRequest
	if err := pv.Decode(&req); err != nil {
		return nil, fmt.Errorf("%s: helm.#Render parameters: %s", what, cueMessage(err, ""))
	}
	ns, _ := ctxMap["namespace"].(string)
	ret, err := task.RenderChart(context.Background(), req, ns, nil)
	if err != nil {
		msg := fmt.Sprintf("%s: chart %q: %v", what, req.Chart.Source, err)
		if task.Unreachable(err) {
			msg += "; rendering a helm chart downloads it, so its chart repository must be reachable from here (an offline dry-run cannot render it)"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	// Numbers as Kubernetes has them: whole numbers are ints.
	b, err := json.Marshal(ret)
	if err != nil {
		return nil, fmt.Errorf("%s: result: %w", what, err)
	}
	d, err := patch.DecodeJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%s: result: %w", what, err)
	}
	m, _ := d.(map[string]any)
	return m, nil
}

// errNoActions stops an evaluation in the sandbox at its first action.
var errNoActions = fmt.Errorf("actions do not run in the render sandbox")
