package conditions

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type obj struct {
	gen   int64
	conds []metav1.Condition
}

func (o *obj) GetConditions() []metav1.Condition  { return o.conds }
func (o *obj) SetConditions(c []metav1.Condition) { o.conds = c }
func (o *obj) GetGeneration() int64               { return o.gen }

func types(o *obj) []string {
	var out []string
	for _, c := range o.conds {
		out = append(out, c.Type+"="+string(c.Status))
	}
	return out
}

func TestMarkAndOrder(t *testing.T) {
	cases := []struct {
		name string
		do   func(o *obj)
		want []string
	}{
		{"ready first of ordinary types", func(o *obj) {
			MarkTrue(o, "Released", "InstallSucceeded", "ok")
			MarkTrue(o, Ready, "InstallSucceeded", "ok")
		}, []string{"Ready=True", "Released=True"}},
		{"stalled, reconciling, ready lead", func(o *obj) {
			MarkFalse(o, "Remediated", "x", "")
			MarkFalse(o, Ready, "x", "")
			MarkTrue(o, Reconciling, "Progressing", "")
			MarkTrue(o, "Released", "x", "")
			Set(o, metav1.Condition{Type: Stalled, Status: metav1.ConditionTrue, Reason: "x"})
		}, []string{"Stalled=True", "Reconciling=True", "Ready=False", "Released=True", "Remediated=False"}},
		{"stalled drops reconciling", func(o *obj) {
			MarkReconciling(o, "Progressing", "working")
			MarkStalled(o, "RetriesExceeded", "gave up")
		}, []string{"Stalled=True"}},
		{"reconciling drops stalled", func(o *obj) {
			MarkStalled(o, "RetriesExceeded", "gave up")
			MarkReconciling(o, "Progressing", "working")
		}, []string{"Reconciling=True"}},
		{"one per type", func(o *obj) {
			MarkTrue(o, Ready, "a", "")
			MarkFalse(o, Ready, "b", "")
			MarkUnknown(o, Ready, "c", "")
		}, []string{"Ready=Unknown"}},
		{"delete", func(o *obj) {
			MarkTrue(o, Ready, "a", "")
			MarkTrue(o, Reconciling, "a", "")
			Delete(o, Reconciling)
		}, []string{"Ready=True"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &obj{gen: 3}
			c.do(o)
			got := types(o)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
			for _, cond := range o.conds {
				if cond.ObservedGeneration != 3 && cond.Type != Stalled {
					t.Errorf("%s observedGeneration = %d, want 3", cond.Type, cond.ObservedGeneration)
				}
			}
		})
	}
}

func TestTransitionTime(t *testing.T) {
	o := &obj{gen: 1}
	old := metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))
	Set(o, metav1.Condition{Type: Ready, Status: metav1.ConditionTrue, Reason: "a", LastTransitionTime: old})
	MarkTrue(o, Ready, "b", "same status, new reason")
	if c := Get(o, Ready); !c.LastTransitionTime.Equal(&old) || c.Reason != "b" {
		t.Fatalf("same status: transition %v reason %s, want %v and b", c.LastTransitionTime, c.Reason, old)
	}
	MarkFalse(o, Ready, "c", "flipped")
	if c := Get(o, Ready); c.LastTransitionTime.Equal(&old) {
		t.Fatal("status flipped but transition time kept")
	}
	if !HasReason(o, Ready, "x", "c") || HasReason(o, Ready, "a") || IsTrue(o, Ready) {
		t.Fatalf("HasReason/IsTrue wrong on %+v", Get(o, Ready))
	}
}
