// Package render turns an Application into Kubernetes objects by
// evaluating the CUE templates of its component and trait definitions.
// It needs no cluster: definitions come from a definition.Source and the
// result is plain unstructured objects for a controller (or dry-run) to
// apply.
//
// The files, in the order a render goes through them:
//
//	types.go        what a render takes (Options) and gives (RenderedComponent)
//	app.go          RenderApp: check the app, build its context, render its components
//	policy.go       policies (override, replication: the components to render); workflow steps checked
//	schedule.go     spreading the two steps of each component over the engines
//	component.go    step one: a component's definitions and template
//	traits.go       step two: its traits, in order (patch, patchOutputs, outputs)
//	postdispatch.go PostDispatch traits, later, against the live workload (RenderPostDispatch)
//	labels.go       the labels every rendered object carries
//	evaluate.go     one template evaluated with its context and parameter
//	engine.go       the Renderer, its engines and their compiled templates
//	paramschema.go  the parameter schema, and properties checked against it
//	paramdecode.go  the evaluated parameter decoded into Go values
//	paramdoc.go     parameters described for people (velad def show)
//	ctxuse.go, ast.go  what a template reads of context; Go values to CUE
//	memo.go, evalcache.go  rendered components and evaluations remembered
//	status.go       health: healthPolicy, customStatus, details (EvalStatus)
//	workload.go     appliesToWorkloads and conflictsWith
//	vet.go          checking a definition file (velad def vet)
//	yaml.go         an Application read from YAML; the dry-run layout written
package render
