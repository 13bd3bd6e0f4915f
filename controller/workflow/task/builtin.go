package task

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cuelang.org/go/cue"

	"github.com/velad-dev/velad/controller/workflow"
)

// actionFunc runs an action; its result (nil: none) is filled in.
type actionFunc func(ctx context.Context, a *action) (map[string]any, error)

// provider finds the function of a.
func (r *runner) provider(a *action) (actionFunc, bool) {
	p, do := a.provider, a.do
	if a.legacy {
		l := legacyAction[a.do]
		p, do = l[0], l[1]
	}
	fn, ok := map[string]actionFunc{
		"builtin/wait":                  r.wait,
		"builtin/fail":                  r.fail,
		"builtin/message":               r.messageAction,
		"builtin/break":                 r.breakAction,
		"builtin/suspend":               r.suspend,
		"builtin/log":                   r.log,
		"builtin/var":                   r.doVar,
		"kube/apply":                    r.kubeApply,
		"kube/apply-in-parallel":        r.kubeApplyAll,
		"kube/read":                     r.kubeRead,
		"kube/list":                     r.kubeList,
		"kube/delete":                   r.kubeDelete,
		"kube/patch":                    r.kubePatch,
		"http/do":                       r.httpDo,
		"util/string":                   r.utilString,
		"util/patch-k8s-object":         r.utilPatch,
		"util/log":                      r.log,
		"config/create":                 r.configCreate,
		"config/read":                   r.configRead,
		"config/list":                   r.configList,
		"config/delete":                 r.configDelete,
		"oam/load":                      r.oamLoad,
		"query/listResourcesInApp":      r.listResources,
		"query/collectServiceEndpoints": r.serviceEndpoints,
		"multicluster/list-clusters":    r.listClusters,
		"multicluster/deploy":           r.deploy,
		"email/send":                    r.sendEmail,
		"helm/render":                   r.helmRender,
		"multicluster/get-placements-from-topology-policies": r.placements,
		"oam/component-apply":                                r.oamApply,
	}[p+"/"+do]
	return fn, ok
}

// legacyAction maps vela/op actions (#do) to the provider and action
// that run them.
var legacyAction = map[string][2]string{
	"apply": {"kube", "apply"}, "apply-in-parallel": {"kube", "apply-in-parallel"}, "read": {"kube", "read"},
	"list": {"kube", "list"}, "delete": {"kube", "delete"}, "patch": {"kube", "patch"},
	"wait": {"builtin", "wait"}, "fail": {"builtin", "fail"}, "message": {"builtin", "message"}, "break": {"builtin", "break"},
	"suspend": {"builtin", "suspend"}, "log": {"builtin", "log"}, "var": {"builtin", "var"},
	"do": {"http", "do"}, "string": {"util", "string"}, "patch-k8s-object": {"util", "patch-k8s-object"},
	"load": {"oam", "load"}, "component-apply": {"oam", "component-apply"}, "send": {"email", "send"},
	"get-placements-from-topology-policies": {"multicluster", "get-placements-from-topology-policies"}, "deploy": {"multicluster", "deploy"},
	"create-config": {"config", "create"}, "read-config": {"config", "read"}, "list-config": {"config", "list"}, "delete-config": {"config", "delete"},
}

// str reads an optional string field of a's parameters.
func (a *action) str(field string) string {
	s, _ := a.params.LookupPath(cue.ParsePath(field)).String()
	return s
}

func (r *runner) wait(_ context.Context, a *action) (map[string]any, error) {
	cont, err := a.params.LookupPath(cue.ParsePath("continue")).Bool()
	if err == nil && cont {
		return nil, nil
	}
	msg := a.str("message")
	if msg == "" {
		msg = fmt.Sprintf("waiting for %s", a.name())
	}
	r.end(workflow.Outcome{Reason: "Wait", Message: msg, RequeueAfter: r.backoff()})
	return nil, nil
}

// backoff is how soon a waiting step is evaluated again: WaitPoll at
// first, a tenth of the time it has waited later, at most MaxWaitPoll.
func (r *runner) backoff() time.Duration {
	d := WaitPoll
	if !r.step.Started.IsZero() {
		d = max(d, r.now.Sub(r.step.Started)/10)
	}
	return min(d, MaxWaitPoll)
}

func (r *runner) fail(_ context.Context, a *action) (map[string]any, error) {
	msg := a.str("message")
	if msg == "" {
		msg = fmt.Sprintf("step %q failed at %s", r.step.Name, a.name())
	}
	r.end(workflow.Outcome{Failed: true, Reason: "Fail", Message: msg})
	return nil, nil
}

func (r *runner) messageAction(_ context.Context, a *action) (map[string]any, error) {
	r.message = a.str("message")
	return nil, nil
}

func (r *runner) breakAction(_ context.Context, a *action) (map[string]any, error) {
	msg := a.str("message")
	if msg == "" {
		msg = r.message
	}
	r.message = msg
	r.end(workflow.Outcome{Done: true, Message: msg})
	return nil, nil
}

// suspend suspends the workflow until it is resumed; with a duration
// the step waits that long from its first run instead.
func (r *runner) suspend(_ context.Context, a *action) (map[string]any, error) {
	if r.step.Resumed {
		return nil, nil
	}
	msg := a.str("message")
	if d := a.str("duration"); d != "" {
		dur, err := time.ParseDuration(d)
		if err != nil {
			return nil, permanentf("InvalidDuration", "duration %q: %v", d, err)
		}
		if left := r.step.Started.Add(dur).Sub(r.now); left > 0 {
			if msg == "" {
				msg = fmt.Sprintf("suspended for %s", d)
			}
			r.end(workflow.Outcome{Reason: "Suspend", Message: msg, RequeueAfter: left})
		}
		return nil, nil
	}
	r.end(workflow.Outcome{Suspend: true, Message: msg})
	return nil, nil
}

func (r *runner) log(_ context.Context, a *action) (map[string]any, error) {
	d := a.params.LookupPath(cue.ParsePath("data"))
	if !d.Exists() {
		return nil, nil
	}
	if s, err := d.String(); err == nil {
		r.logs = append(r.logs, s)
		return nil, nil
	}
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, permanentf("InvalidAction", "data: %s", err)
	}
	b, _ := json.Marshal(x)
	r.logs = append(r.logs, string(b))
	return nil, nil
}

func (r *runner) doVar(_ context.Context, a *action) (map[string]any, error) {
	path := a.str("path")
	if path == "" {
		return nil, permanentf("InvalidAction", "a variable needs a path")
	}
	if r.env.Context == nil {
		return nil, permanentf("InvalidAction", "variables need the workflow's context")
	}
	if a.str("method") == "Put" {
		var x any
		if err := a.params.LookupPath(cue.ParsePath("value")).Decode(&x); err != nil {
			return nil, permanentf("InvalidAction", "value: %s", err)
		}
		r.env.Context.SetVar(path, x)
		return nil, nil
	}
	v, ok := r.env.Context.Var(path)
	if !ok {
		return nil, nil
	}
	return map[string]any{"value": v}, nil
}
