package render

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/patch"
)

// Labels set on every rendered object besides the app.oam.dev ones.
const (
	LabelWorkloadType = "workload.oam.dev/type"
	LabelTraitType    = "trait.oam.dev/type"
	LabelTraitOutput  = "trait.oam.dev/resource"
	LabelReplicaKey   = "app.oam.dev/replicaKey"
	// DefaultCluster is context.cluster for the local cluster.
	DefaultCluster = "local"
)

// ErrInternal wraps a panic recovered while rendering (a bug in velad or
// CUE, not in the user's input).
var ErrInternal = errors.New("internal error evaluating CUE")

// Options carries what the context of a render needs besides the app.
type Options struct {
	// Revision is context.appRevision; default "<app>-v<RevisionNum>".
	Revision string
	// RevisionNum is context.appRevisionNum; default 1.
	RevisionNum int64
	// Cluster is context.cluster; default "local".
	Cluster string
	// Live returns the live workload of a component (nil if not applied
	// yet). When set, PostDispatch traits are rendered with its status as
	// context.status; when nil they are skipped.
	Live func(component, replicaKey string) *unstructured.Unstructured
}

// RenderedComponent is one component rendered with its traits.
type RenderedComponent struct {
	Name       string
	Type       string
	ReplicaKey string
	DependsOn  []string
	Definition *definition.Definition
	// Properties are the component's parameters after defaults.
	Properties map[string]any
	// Workload is the object from the template's `output`.
	Workload *unstructured.Unstructured
	// Auxiliaries are the objects of `outputs`, the component's first and
	// then each trait's.
	Auxiliaries []Auxiliary
	Traits      []RenderedTrait
	// Context is the CUE context the component was rendered with (to
	// evaluate health against live objects later).
	Context map[string]any
}

// Auxiliary is an object from an `outputs.<Name>` field.
type Auxiliary struct {
	Name string
	// Trait is the trait type that produced it; "" for the component.
	Trait  string
	Object *unstructured.Unstructured
}

// RenderedTrait records a trait applied to a component.
type RenderedTrait struct {
	Type       string
	Definition *definition.Definition
	Properties map[string]any
	Stage      string
	// Skipped is true for a PostDispatch trait rendered without a live
	// workload.
	Skipped bool
}

// Objects returns the workload followed by the auxiliary objects.
func (c *RenderedComponent) Objects() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, 1+len(c.Auxiliaries))
	if c.Workload != nil {
		out = append(out, c.Workload)
	}
	for _, a := range c.Auxiliaries {
		out = append(out, a.Object)
	}
	return out
}

// RenderApp renders every component of app (after its override and
// replication policies) with the definitions of defs. Policies and
// workflow steps are checked against their definitions.
func (r *Renderer) RenderApp(ctx context.Context, app *v1beta1.Application, defs definition.Source, opts Options) (_ []RenderedComponent, err error) {
	// A bug in CUE evaluation must not take the controller down.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("render application: %w: %v", ErrInternal, p)
		}
	}()
	if app == nil {
		return nil, errors.New("render application: nil application")
	}
	if err := validateApp(app); err != nil {
		return nil, fmt.Errorf("render application %q: %w", app.Name, err)
	}
	e, err := r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	policies, err := e.policies(ctx, app, defs)
	if err == nil {
		err = e.checkWorkflow(ctx, app, defs)
	}
	if err != nil {
		r.release(e)
		return nil, fmt.Errorf("render application %q: %w", app.Name, err)
	}
	items, err := plan(app, policies)
	if err != nil {
		r.release(e)
		return nil, fmt.Errorf("render application %q: %w", app.Name, err)
	}
	base := appContext(app, opts)
	jobs := make([]*componentJob, len(items))
	wrap := func(i int, err error) error {
		return fmt.Errorf("render component %q: %w", items[i].comp.Name, err)
	}
	steps := stepFuncs{
		first: func(e *engine, i int) (bool, error) {
			j, err := e.renderWorkload(ctx, app, items[i], base, defs, opts)
			if err != nil {
				return false, wrap(i, err)
			}
			jobs[i] = j
			return !j.done, nil
		},
		second: func(e *engine, i int) error {
			if err := e.renderTraits(app, jobs[i], opts); err != nil {
				return wrap(i, err)
			}
			return nil
		},
	}
	// Components render in parallel on idle engines; opts.Live is the
	// caller's and need not be safe for concurrent use.
	workers := min(len(items), r.size)
	if opts.Live != nil {
		workers = 1
	}
	errs := r.runSteps(ctx, e, len(items), workers, steps)
	// The first error in component order, as a sequential render reports.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]RenderedComponent, len(jobs))
	for i, j := range jobs {
		out[i] = *j.rc
	}
	return out, nil
}

func validateApp(app *v1beta1.Application) error {
	if len(app.Spec.Components) == 0 {
		return errors.New("spec.components is empty: an application needs at least one component")
	}
	seen := map[string]bool{}
	for i, c := range app.Spec.Components {
		if c.Name == "" {
			return fmt.Errorf("spec.components[%d] has no name", i)
		}
		if c.Type == "" {
			return fmt.Errorf("component %q has no type", c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("component name %q is used twice", c.Name)
		}
		seen[c.Name] = true
	}
	for _, c := range app.Spec.Components {
		for _, d := range c.DependsOn {
			if !seen[d] {
				return fmt.Errorf("component %q depends on unknown component %q", c.Name, d)
			}
		}
	}
	return nil
}

func appContext(app *v1beta1.Application, opts Options) map[string]any {
	num := opts.RevisionNum
	if num == 0 {
		num = 1
	}
	rev := opts.Revision
	if rev == "" {
		rev = fmt.Sprintf("%s-v%d", app.Name, num)
	}
	cluster := opts.Cluster
	if cluster == "" {
		cluster = DefaultCluster
	}
	ns := app.Namespace
	if ns == "" {
		ns = "default"
	}
	comps := make([]any, 0, len(app.Spec.Components))
	for _, c := range app.Spec.Components {
		comps = append(comps, map[string]any{"name": c.Name, "type": c.Type})
	}
	return map[string]any{
		"appName":        app.Name,
		"namespace":      ns,
		"appRevision":    rev,
		"appRevisionNum": num,
		"appLabels":      stringMap(app.Labels),
		"appAnnotations": stringMap(app.Annotations),
		"components":     comps,
		"cluster":        cluster,
		"publishVersion": app.Annotations[v1beta1.AnnotationPublishVersion],
	}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// DecodeProperties turns raw properties into a JSON object ("" or null →
// empty object).
func DecodeProperties(raw *runtime.RawExtension) (map[string]any, error) {
	if raw == nil || len(raw.Raw) == 0 || string(raw.Raw) == "null" {
		return map[string]any{}, nil
	}
	v, err := patch.DecodeJSON(raw.Raw)
	if err != nil {
		return nil, fmt.Errorf("invalid properties: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("properties must be an object, got %s", describe(v))
	}
	return m, nil
}

func (r *engine) lookup(ctx context.Context, defs definition.Source, kind definition.Kind, ref string) (*Template, error) {
	name, rev, err := definition.SplitRef(ref)
	if err != nil {
		return nil, err
	}
	d, err := defs.Lookup(ctx, kind, name, rev)
	if err != nil {
		if errors.Is(err, definition.ErrNotFound) {
			return nil, fmt.Errorf("unknown %s type %q: no %s with that name", kind, ref, kind.CRDKind())
		}
		return nil, err
	}
	return r.compile(d)
}

// evaluate fills context and parameter into a template and checks `errs`.
// Evaluations that depend only on parameters are remembered (evalCache).
func (r *engine) evaluate(t *Template, ctxMap map[string]any, props map[string]any) (cue.Value, map[string]any, error) {
	props, err := checkProperties(t.schema, props)
	if err != nil {
		return cue.Value{}, nil, fmt.Errorf("invalid properties for %s %q: %w", t.Def.Kind, t.Def.Name, err)
	}
	if t.use != nil {
		ctxMap = t.use.prune(ctxMap)
	}
	key, cached := evalKey(t, ctxMap, props)
	if cached {
		if v, params, ok := r.evals.get(key); ok {
			return v, params, nil
		}
	}
	v, params, err := r.evaluateInputs(t, ctxMap, props)
	if err == nil && cached {
		r.evals.put(key, v, params)
	}
	return v, params, err
}

func (r *engine) evaluateInputs(t *Template, ctxMap, props map[string]any) (cue.Value, map[string]any, error) {
	// One unification with parameter and context together: each FillPath
	// would evaluate the whole template again.
	inputs, err := r.toValue(map[string]any{"parameter": props, "context": ctxMap})
	if err != nil {
		return cue.Value{}, nil, fmt.Errorf("invalid properties for %s %q: %w", t.Def.Kind, t.Def.Name, err)
	}
	v := t.value.Unify(inputs)
	params := props
	if t.parameter.Exists() {
		pv := v.LookupPath(pathParameter)
		d, derr := t.decodeParams(pv, props)
		if derr != nil {
			// Validate names the property; MarshalJSON does not.
			if err := pv.Validate(); err != nil {
				return cue.Value{}, nil, fmt.Errorf("invalid properties for %s %q: property %s", t.Def.Kind, t.Def.Name, quoteFirst(cueMessage(err, "parameter")))
			}
		} else if m, ok := d.(map[string]any); ok {
			params = m
		}
	}
	if errs := v.LookupPath(pathErrs); errs.Exists() {
		var list []string
		if err := errs.Decode(&list); err == nil && len(list) > 0 {
			return cue.Value{}, nil, fmt.Errorf("%s %q reports: %s", t.Def.Kind, t.Def.Name, strings.Join(list, "; "))
		}
	}
	return v, params, nil
}

// toValue converts JSON-like Go data to a CUE value by way of a CUE
// syntax tree. (Filling Go values directly loses fields when a template
// embeds them, e.g. `[for c in list {c}]`, with cuelang.org/go v0.17.1.)
func (r *engine) toValue(v any) (cue.Value, error) {
	expr, err := toAST(v)
	if err != nil {
		return cue.Value{}, err
	}
	cv := r.cue.BuildExpr(expr)
	if err := cv.Err(); err != nil {
		return cue.Value{}, err
	}
	return cv, nil
}

// quoteFirst turns "a.b: msg" into `"a.b": msg`.
func quoteFirst(s string) string {
	if p, msg, ok := strings.Cut(s, ": "); ok && !strings.ContainsAny(p, " ") {
		return fmt.Sprintf("%q: %s", p, msg)
	}
	return s
}

func decodeObject(v cue.Value, what string) (map[string]any, error) {
	d, err := patch.Decode(v)
	if err != nil {
		// Validate explains incomplete values better than MarshalJSON.
		if verr := v.Validate(cue.Concrete(true)); verr != nil {
			err = verr
		}
		return nil, fmt.Errorf("evaluate %s: %s", what, cueMessage(err, ""))
	}
	m, ok := d.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("evaluate %s: want a Kubernetes object, got %s", what, describe(d))
	}
	if m["apiVersion"] == nil || m["kind"] == nil {
		return nil, fmt.Errorf("evaluate %s: the object has no apiVersion or kind", what)
	}
	return m, nil
}

func namedOutputs(v cue.Value, what string) ([]Auxiliary, error) {
	outs := v.LookupPath(pathOutputs)
	if !outs.Exists() {
		return nil, nil
	}
	it, err := outs.Fields()
	if err != nil {
		return nil, fmt.Errorf("evaluate %s outputs: %s", what, cueMessage(err, ""))
	}
	var res []Auxiliary
	for it.Next() {
		name := it.Selector().Unquoted()
		m, err := decodeObject(it.Value(), fmt.Sprintf("%s outputs.%s", what, name))
		if err != nil {
			return nil, err
		}
		res = append(res, Auxiliary{Name: name, Object: &unstructured.Unstructured{Object: m}})
	}
	return res, nil
}

// componentJob carries a component from its first rendering step to its
// second.
type componentJob struct {
	item workItem
	rc   *RenderedComponent
	// traits are compiled by the engine of the first step: the second
	// compiles their definitions again on its own engine.
	traits  []*Template
	memoKey [32]byte
	memoize bool
	// done: the memo had the component, there is no second step.
	done bool
}

// renderWorkload is the first step of rendering a component: it resolves
// the component's definitions and evaluates its template.
func (r *engine) renderWorkload(ctx context.Context, app *v1beta1.Application, it workItem, base map[string]any, defs definition.Source, opts Options) (*componentJob, error) {
	t, traits, err := r.lookupComponent(ctx, defs, it.comp)
	if err != nil {
		return nil, err
	}
	cctx := make(map[string]any, len(base)+3)
	for k, v := range base {
		cctx[k] = v
	}
	cctx["name"] = it.comp.Name
	cctx["replicaKey"] = it.replicaKey
	j := &componentJob{item: it, traits: traits}
	j.memoKey, j.memoize = r.r.memoKey(app, it, cctx, t, traits, opts)
	if j.memoize {
		if hit := r.r.memoGet(j.memoKey); hit != nil {
			j.rc, j.done = hit, true
			return j, nil
		}
	}
	if j.rc, err = r.evaluateComponent(t, it, cctx); err != nil {
		return nil, err
	}
	if err := checkTraits(t, traits, j.rc); err != nil {
		return nil, err
	}
	return j, nil
}

// lookupComponent compiles the definitions of a component and its traits.
func (r *engine) lookupComponent(ctx context.Context, defs definition.Source, c v1beta1.ApplicationComponent) (*Template, []*Template, error) {
	t, err := r.lookup(ctx, defs, definition.KindComponent, c.Type)
	if err != nil {
		return nil, nil, err
	}
	traits := make([]*Template, len(c.Traits))
	for i, tr := range c.Traits {
		if traits[i], err = r.lookup(ctx, defs, definition.KindTrait, tr.Type); err != nil {
			return nil, nil, fmt.Errorf("trait %q: %w", tr.Type, err)
		}
	}
	return t, traits, nil
}

// evaluateComponent evaluates a component's template and decodes its
// objects.
func (r *engine) evaluateComponent(t *Template, it workItem, cctx map[string]any) (*RenderedComponent, error) {
	v, params, err := r.evaluate(t, cctx, it.props)
	if err != nil {
		return nil, err
	}
	c := it.comp
	out := &RenderedComponent{
		Name: c.Name, Type: c.Type, ReplicaKey: it.replicaKey, DependsOn: c.DependsOn,
		Definition: t.Def, Properties: params, Context: cctx,
	}
	if ov := v.LookupPath(pathOutput); ov.Exists() {
		m, err := decodeObject(ov, "output")
		if err != nil {
			return nil, err
		}
		out.Workload = &unstructured.Unstructured{Object: m}
	}
	if out.Auxiliaries, err = namedOutputs(v, "component"); err != nil {
		return nil, err
	}
	if out.Workload == nil && len(out.Auxiliaries) == 0 {
		return nil, fmt.Errorf("component definition %q has no output: its template must set `output` or `outputs`", t.Def.Name)
	}
	return out, nil
}

// renderTraits is the second step of rendering a component: it applies
// the traits, in order, to the rendered component and labels its objects.
func (r *engine) renderTraits(app *v1beta1.Application, j *componentJob, opts Options) error {
	out := j.rc
	for i, first := range j.traits {
		tt, err := r.compile(first.Def)
		if err != nil {
			return fmt.Errorf("trait %q: %w", first.Def.Name, err)
		}
		rt, err := r.renderTrait(tt, j.item.traitProps[i], out, opts)
		if err != nil {
			return fmt.Errorf("trait %q: %w", tt.Def.Name, err)
		}
		out.Traits = append(out.Traits, rt)
	}
	stamp(app, out)
	if j.memoize {
		r.r.memoPut(j.memoKey, out)
	}
	return nil
}

// checkTraits checks that each trait applies to the workload and none
// conflicts with another.
func checkTraits(ct *Template, traits []*Template, rc *RenderedComponent) error {
	w := workloadOf(ct.Def, rc.Workload)
	for _, tt := range traits {
		if !Applies(tt.Def.Trait().Spec.AppliesToWorkloads, w) {
			return fmt.Errorf("trait %q does not apply to component type %q (workload %s); it applies to: %s",
				tt.Def.Name, ct.Def.Name, w.Resource(), strings.Join(tt.Def.Trait().Spec.AppliesToWorkloads, ", "))
		}
	}
	for i, tt := range traits {
		for j, other := range traits {
			if i != j && Conflicts(tt.Def.Trait().Spec.ConflictsWith, other.Def.Name) {
				return fmt.Errorf("trait %q conflicts with trait %q: remove one of them", tt.Def.Name, other.Def.Name)
			}
		}
	}
	return nil
}

func (r *engine) renderTrait(t *Template, props map[string]any, rc *RenderedComponent, opts Options) (RenderedTrait, error) {
	spec := t.Def.Trait().Spec
	rt := RenderedTrait{Type: t.Def.Name, Definition: t.Def, Stage: spec.Stage}
	if rt.Stage == "" {
		rt.Stage = v1beta1.StageDefaultDispatch
	}
	tctx := make(map[string]any, len(rc.Context)+3)
	for k, v := range rc.Context {
		tctx[k] = v
	}
	var output map[string]any
	if rc.Workload != nil {
		output = rc.Workload.Object
	}
	if rt.Stage == v1beta1.StagePostDispatch {
		if opts.Live == nil {
			rt.Skipped = true
			return rt, nil
		}
		if live := opts.Live(rc.Name, rc.ReplicaKey); live != nil {
			output = live.Object
			if st, ok := live.Object["status"]; ok {
				tctx["status"] = st
			}
		}
	}
	if output != nil {
		tctx["output"] = output
	}
	outs := make(map[string]any, len(rc.Auxiliaries))
	for _, a := range rc.Auxiliaries {
		outs[a.Name] = a.Object.Object
	}
	tctx["outputs"] = outs

	v, params, err := r.evaluate(t, tctx, props)
	if err != nil {
		return rt, err
	}
	rt.Properties = params
	if pv := v.LookupPath(pathPatch); pv.Exists() {
		if rc.Workload == nil {
			return rt, errors.New("the component has no workload to patch")
		}
		m, err := patch.Apply(rc.Workload.Object, pv)
		if err != nil {
			return rt, err
		}
		rc.Workload.Object = m
	}
	if po := v.LookupPath(pathPatchOuts); po.Exists() {
		it, err := po.Fields()
		if err != nil {
			return rt, fmt.Errorf("patchOutputs: %s", cueMessage(err, ""))
		}
		for it.Next() {
			name := it.Selector().Unquoted()
			for i := range rc.Auxiliaries {
				if rc.Auxiliaries[i].Name != name {
					continue
				}
				m, err := patch.Apply(rc.Auxiliaries[i].Object.Object, it.Value())
				if err != nil {
					return rt, fmt.Errorf("patchOutputs.%s: %w", name, err)
				}
				rc.Auxiliaries[i].Object.Object = m
			}
		}
	}
	aux, err := namedOutputs(v, "trait")
	if err != nil {
		return rt, err
	}
	for _, a := range aux {
		a.Trait = t.Def.Name
		rc.Auxiliaries = append(rc.Auxiliaries, a)
	}
	return rt, nil
}

// stamp labels every object of the component.
func stamp(app *v1beta1.Application, rc *RenderedComponent) {
	ns := app.Namespace
	if ns == "" {
		ns = "default"
	}
	common := map[string]string{
		v1beta1.LabelAppName:      app.Name,
		v1beta1.LabelAppComponent: rc.Name,
		v1beta1.LabelAppNamespace: ns,
	}
	if rc.ReplicaKey != "" {
		common[LabelReplicaKey] = rc.ReplicaKey
	}
	if rc.Workload != nil {
		setLabels(rc.Workload, common, map[string]string{LabelWorkloadType: rc.Definition.Name})
	}
	for _, a := range rc.Auxiliaries {
		extra := map[string]string{}
		if a.Trait != "" {
			extra[LabelTraitType] = a.Trait
			extra[LabelTraitOutput] = a.Name
		}
		setLabels(a.Object, common, extra)
	}
}

func setLabels(u *unstructured.Unstructured, sets ...map[string]string) {
	meta, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		meta = map[string]any{}
		u.Object["metadata"] = meta
	}
	labels, ok := meta["labels"].(map[string]any)
	if !ok {
		labels = map[string]any{}
		meta["labels"] = labels
	}
	for _, s := range sets {
		for k, v := range s {
			labels[k] = v
		}
	}
}
