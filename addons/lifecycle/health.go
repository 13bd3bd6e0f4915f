package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	helmrelease "helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/velad-dev/velad/addons"
)

// pollInterval is how often readiness is checked while waiting.
const pollInterval = 500 * time.Millisecond

// Workload is the state of one workload an addon's health names.
type Workload struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Ready bool   `json:"ready"`
	// State is e.g. "1/1 available" or "not created".
	State string `json:"state"`
}

// Pod is one pod in an addon's namespace.
type Pod struct {
	Name     string `json:"name"`
	Phase    string `json:"phase"`
	Ready    bool   `json:"ready"`
	Restarts int32  `json:"restarts"`
	// Problem says why it is not ready, when it says anything.
	Problem string `json:"problem,omitempty"`
}

// check is the health of an enabled addon.
type check struct {
	workloads   []Workload
	pods        []Pod
	definitions []DefinitionState
	problems    []string
}

func (c *check) healthy() bool { return len(c.problems) == 0 }

// summary is one line: what is ready, or the first problems.
func (c *check) summary() string {
	if c.healthy() {
		var parts []string
		for _, w := range c.workloads {
			parts = append(parts, w.Name+" "+w.State)
		}
		if len(parts) == 0 {
			return "ready"
		}
		return strings.Join(parts, ", ")
	}
	if len(c.problems) > 2 {
		return strings.Join(c.problems[:2], "; ") + fmt.Sprintf("; and %d more", len(c.problems)-2)
	}
	return strings.Join(c.problems, "; ")
}

// check looks at the addon's release, workloads, pods and definitions.
func (m *Manager) check(ctx context.Context, a *addons.Addon, rel *helmrelease.Release) (*check, error) {
	c := &check{}
	if rel != nil && rel.Info.Status != helmrelease.StatusDeployed {
		c.problems = append(c.problems, fmt.Sprintf("Helm release %s/%s is %s: %s", a.Namespace, a.ReleaseName(), rel.Info.Status, rel.Info.Description))
	}
	pods, err := m.cs.CoreV1().Pods(a.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list pods of addon %s: %w", a.Name, err)
	}
	for _, p := range pods.Items {
		c.pods = append(c.pods, podState(&p))
	}
	for _, name := range a.Health.Deployments {
		w, sel, err := m.deployment(ctx, a.Namespace, name)
		if err != nil {
			return nil, err
		}
		c.add(w, sel, pods.Items)
	}
	for _, name := range a.Health.DaemonSets {
		w, sel, err := m.daemonSet(ctx, a.Namespace, name)
		if err != nil {
			return nil, err
		}
		c.add(w, sel, pods.Items)
	}
	if c.definitions, err = m.definitionStates(ctx, a); err != nil {
		return nil, err
	}
	for _, d := range c.definitions {
		if !d.Present {
			c.problems = append(c.problems, fmt.Sprintf("%s definition %q is missing (velad addon enable %s puts it back)", d.Kind, d.Name, a.Name))
		}
	}
	return c, nil
}

// add records a workload and, when it is not ready, why its pods are not.
func (c *check) add(w Workload, sel labels.Selector, pods []corev1.Pod) {
	c.workloads = append(c.workloads, w)
	if w.Ready {
		return
	}
	msg := fmt.Sprintf("%s %s %s", strings.ToLower(w.Kind), w.Name, w.State)
	var why []string
	for i := range pods {
		if sel != nil && sel.Matches(labels.Set(pods[i].Labels)) {
			if p := podState(&pods[i]); p.Problem != "" {
				why = append(why, p.Name+": "+p.Problem)
			}
		}
	}
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	c.problems = append(c.problems, msg)
}

func (m *Manager) deployment(ctx context.Context, ns, name string) (Workload, labels.Selector, error) {
	w := Workload{Kind: "Deployment", Name: name}
	d, err := m.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		w.State = "not created"
		return w, nil, nil
	}
	if err != nil {
		return w, nil, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
	}
	w.Ready, w.State = deploymentReady(d)
	sel, _ := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	return w, sel, nil
}

// deploymentReady is true as `kubectl rollout status` is: the newest
// template observed, every replica updated and available, no old one left.
func deploymentReady(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	state := fmt.Sprintf("%d/%d available", st.AvailableReplicas, want)
	switch {
	case st.ObservedGeneration < d.Generation:
		return false, state + ", rollout not started"
	case st.UpdatedReplicas < want || st.Replicas > st.UpdatedReplicas:
		return false, state + fmt.Sprintf(", %d/%d updated", st.UpdatedReplicas, want)
	case st.AvailableReplicas < want:
		return false, state
	}
	return true, state
}

func (m *Manager) daemonSet(ctx context.Context, ns, name string) (Workload, labels.Selector, error) {
	w := Workload{Kind: "DaemonSet", Name: name}
	d, err := m.cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		w.State = "not created"
		return w, nil, nil
	}
	if err != nil {
		return w, nil, fmt.Errorf("get daemonset %s/%s: %w", ns, name, err)
	}
	st := d.Status
	w.State = fmt.Sprintf("%d/%d available", st.NumberAvailable, st.DesiredNumberScheduled)
	w.Ready = st.ObservedGeneration >= d.Generation && st.UpdatedNumberScheduled == st.DesiredNumberScheduled &&
		st.NumberAvailable == st.DesiredNumberScheduled && st.DesiredNumberScheduled > 0
	sel, _ := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	return w, sel, nil
}

// podState says how a pod is and, when it is not ready, why.
func podState(p *corev1.Pod) Pod {
	out := Pod{Name: p.Name, Phase: string(p.Status.Phase)}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			out.Ready = c.Status == corev1.ConditionTrue
		}
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			out.Problem = "not scheduled: " + c.Message
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		out.Restarts += cs.RestartCount
		if out.Ready || out.Problem != "" {
			continue
		}
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "ContainerCreating":
			out.Problem = strings.TrimSuffix(cs.State.Waiting.Reason+": "+cs.State.Waiting.Message, ": ")
		case cs.State.Terminated != nil:
			out.Problem = fmt.Sprintf("exited %d (%s)", cs.State.Terminated.ExitCode, cs.State.Terminated.Reason)
		case cs.LastTerminationState.Terminated != nil:
			t := cs.LastTerminationState.Terminated
			out.Problem = fmt.Sprintf("restarted %d times, last exit %d (%s)", cs.RestartCount, t.ExitCode, t.Reason)
		case cs.State.Running != nil && !cs.Ready:
			out.Problem = "running, not ready (readiness probe)"
		}
	}
	return out
}

// waitReady polls the addon's health until it is healthy or the timeout
// passes; the error says what is still wrong.
func (m *Manager) waitReady(ctx context.Context, a *addons.Addon) error {
	rc, err := m.helmFor(a)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.o.Timeout)
	defer cancel()
	last := "not checked yet"
	for {
		rel, err := rc.Get(a.ReleaseName())
		if err == nil {
			var c *check
			if c, err = m.check(ctx, a, rel); err == nil {
				if c.healthy() {
					return nil
				}
				last = c.summary()
				m.o.Progress.Waiting(fmt.Sprintf("addon %s: %s", a.Name, last))
			}
		}
		if err != nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("addon %s not ready after %s: %s; see 'velad addon status %s'", a.Name, m.o.Timeout, last, a.Name)
			}
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// Info is one line of `velad addon list`.
type Info struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Version is the version velad carries; Installed the enabled one
	// ("" when the addon is not enabled).
	Version   string `json:"version"`
	Installed string `json:"installed,omitempty"`
	Default   bool   `json:"default"`
	Enabled   bool   `json:"enabled"`
	Healthy   bool   `json:"healthy"`
	// Health is "ready", the workloads' states, or what is wrong.
	Health string `json:"health,omitempty"`
}

// List reports every addon velad carries: enabled or not and, when it
// is, its health.
func (m *Manager) List(ctx context.Context) ([]Info, error) {
	var out []Info
	for _, a := range m.reg.List() {
		info, _, err := m.info(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (m *Manager) info(ctx context.Context, a *addons.Addon) (Info, *check, error) {
	info := Info{Name: a.Name, Description: a.Description, Version: a.Version, Default: a.Default}
	rc, err := m.helmFor(a)
	if err != nil {
		return info, nil, err
	}
	rel, err := rc.Get(a.ReleaseName())
	if err != nil || rel == nil {
		return info, nil, err
	}
	info.Enabled, info.Installed = true, rel.Chart.Metadata.Version
	c, err := m.check(ctx, a, rel)
	if err != nil {
		return info, nil, err
	}
	info.Healthy, info.Health = c.healthy(), c.summary()
	return info, c, nil
}

// ReleaseInfo describes an addon's Helm release.
type ReleaseInfo struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Revision  int       `json:"revision"`
	Status    string    `json:"status"`
	Chart     string    `json:"chart"`
	Updated   time.Time `json:"updated"`
}

// Report is `velad addon status NAME`.
type Report struct {
	Info
	Namespace    string            `json:"namespace"`
	Dependencies []string          `json:"dependencies,omitempty"`
	Release      *ReleaseInfo      `json:"release,omitempty"`
	Workloads    []Workload        `json:"workloads,omitempty"`
	Pods         []Pod             `json:"pods,omitempty"`
	Definitions  []DefinitionState `json:"definitions,omitempty"`
	// Problems say what is unhealthy and why.
	Problems []string `json:"problems,omitempty"`
}

// Status reports one addon in full.
func (m *Manager) Status(ctx context.Context, name string) (*Report, error) {
	a, err := m.reg.Get(name)
	if err != nil {
		return nil, err
	}
	info, c, err := m.info(ctx, a)
	if err != nil {
		return nil, err
	}
	r := &Report{Info: info, Namespace: a.Namespace, Dependencies: a.Dependencies}
	if !info.Enabled {
		if r.Definitions, err = m.definitionStates(ctx, a); err != nil {
			return nil, err
		}
		return r, nil
	}
	rc, err := m.helmFor(a)
	if err != nil {
		return nil, err
	}
	rel, err := rc.Get(a.ReleaseName())
	if err != nil {
		return nil, err
	}
	if rel != nil {
		r.Release = &ReleaseInfo{
			Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version, Status: string(rel.Info.Status),
			Chart: rel.Chart.Metadata.Name + "-" + rel.Chart.Metadata.Version, Updated: rel.Info.LastDeployed.Time,
		}
	}
	r.Workloads, r.Pods, r.Definitions, r.Problems = c.workloads, c.pods, c.definitions, c.problems
	sort.Slice(r.Pods, func(i, j int) bool { return r.Pods[i].Name < r.Pods[j].Name })
	return r, nil
}
