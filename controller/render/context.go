package render

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"runtime"
	"strconv"
	"strings"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/version"
)

// The `context` a template sees, with the fields KubeVela documents:
// the application's (appName, namespace, appRevision, appRevisionNum,
// appLabels, appAnnotations, components, cluster, clusterVersion,
// publishVersion, workflowName), the component's (name, revision,
// replicaKey) and, for traits, the rendered component (output, outputs,
// parameter, componentType, and status for PostDispatch traits).

// AnnotationWorkflowName names the workflow of an application
// (context.workflowName).
const AnnotationWorkflowName = "app.oam.dev/workflowName"

// ClusterVersion is the Kubernetes version a render targets
// (context.clusterVersion); templates choose API versions by its minor.
type ClusterVersion struct {
	Major      string
	Minor      string
	GitVersion string
	Platform   string
}

// EmbeddedClusterVersion is the version of the Kubernetes velad embeds:
// what renders target when no cluster says otherwise (dry-run).
func EmbeddedClusterVersion() ClusterVersion {
	v := strings.TrimPrefix(version.KubernetesVersion, "v")
	parts := strings.SplitN(v, ".", 3)
	cv := ClusterVersion{GitVersion: version.KubernetesVersion, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if len(parts) >= 2 {
		cv.Major, cv.Minor = parts[0], parts[1]
	}
	return cv
}

// SetClusterVersion sets the version of the cluster the Renderer renders
// for (the controller reads it from the API server).
func (r *Renderer) SetClusterVersion(cv ClusterVersion) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clusterVersion = cv
}

// ClusterVersion is the version renders target (context.clusterVersion).
func (r *Renderer) ClusterVersion() ClusterVersion { return r.version() }

func (r *Renderer) version() ClusterVersion {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clusterVersion
}

// value is context.clusterVersion: minor as a number ("27+" is 27).
func (cv ClusterVersion) value() map[string]any {
	minor, _ := strconv.ParseInt(strings.TrimRight(strings.TrimSpace(cv.Minor), ".+-/?!"), 10, 64)
	return map[string]any{"major": cv.Major, "minor": minor, "gitVersion": cv.GitVersion, "platform": cv.Platform}
}

// appContext is the part of context every component of app shares.
func (r *Renderer) appContext(app *v1beta1.Application, items []workItem, opts Options) map[string]any {
	num := opts.RevisionNum
	if num == 0 {
		num = 1
	}
	rev := opts.Revision
	if rev == "" {
		rev = fmt.Sprintf("%s-v%d", app.Name, num)
	}
	if opts.Offline {
		rev, num = "", 0
	}
	cluster := opts.Cluster
	if cluster == "" {
		cluster = DefaultCluster
	}
	comps := make([]any, 0, len(items))
	for _, it := range items {
		comps = append(comps, componentValue(it))
	}
	return map[string]any{
		"appName":        app.Name,
		"namespace":      appNamespace(app),
		"appRevision":    rev,
		"appRevisionNum": num,
		"appLabels":      stringMap(app.Labels),
		"appAnnotations": stringMap(app.Annotations),
		"components":     comps,
		"cluster":        cluster,
		"clusterVersion": r.version().value(),
		"publishVersion": app.Annotations[v1beta1.AnnotationPublishVersion],
		"workflowName":   app.Annotations[AnnotationWorkflowName],
	}
}

// componentValue is a component as context.components lists it: as
// written in the application (after override policies).
func componentValue(it workItem) map[string]any {
	c := it.comp
	m := map[string]any{"name": c.Name, "type": c.Type}
	if len(it.props) > 0 {
		m["properties"] = it.props
	}
	if c.ExternalRevision != "" {
		m["externalRevision"] = c.ExternalRevision
	}
	if len(c.DependsOn) > 0 {
		m["dependsOn"] = stringList(c.DependsOn)
	}
	if len(c.Traits) > 0 {
		traits := make([]any, len(c.Traits))
		for i, t := range c.Traits {
			tm := map[string]any{"type": t.Type}
			if i < len(it.traitProps) && len(it.traitProps[i]) > 0 {
				tm["properties"] = it.traitProps[i]
			}
			traits[i] = tm
		}
		m["traits"] = traits
	}
	if len(c.Inputs) > 0 {
		in := make([]any, len(c.Inputs))
		for i, x := range c.Inputs {
			e := map[string]any{"from": x.From}
			if x.ParameterKey != "" {
				e["parameterKey"] = x.ParameterKey
			}
			in[i] = e
		}
		m["inputs"] = in
	}
	if len(c.Outputs) > 0 {
		out := make([]any, len(c.Outputs))
		for i, x := range c.Outputs {
			out[i] = map[string]any{"name": x.Name, "valueFrom": x.ValueFrom}
		}
		m["outputs"] = out
	}
	return m
}

// componentRevision is context.revision: a hash of the component as it
// is rendered, so that it changes exactly when the component does.
func componentRevision(it workItem) string {
	b, err := json.Marshal(componentValue(it))
	if err != nil {
		return ""
	}
	h := fnv.New64a()
	h.Write(b)
	return strconv.FormatUint(h.Sum64(), 16)
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func stringList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}
