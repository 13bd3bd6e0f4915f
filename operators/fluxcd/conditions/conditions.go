// Package conditions sets kstatus-compatible conditions on Flux objects
// the way Flux's controllers do: one condition per type, the transition
// time kept while the status does not change, and Stalled, Reconciling
// and Ready first, the rest by type.
package conditions

import (
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Flux's common condition types (fluxcd/pkg/apis/meta).
const (
	Ready       = "Ready"
	Reconciling = "Reconciling"
	Stalled     = "Stalled"
)

// Setter is an object with a conditions list (HelmRelease, HelmRepository).
type Setter interface {
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	GetGeneration() int64
}

// Get returns the condition of type t, or nil.
func Get(obj Setter, t string) *metav1.Condition {
	for _, c := range obj.GetConditions() {
		if c.Type == t {
			c := c
			return &c
		}
	}
	return nil
}

// IsTrue is true when the condition of type t has status True.
func IsTrue(obj Setter, t string) bool {
	c := Get(obj, t)
	return c != nil && c.Status == metav1.ConditionTrue
}

// HasReason is true when the condition of type t has one of reasons.
func HasReason(obj Setter, t string, reasons ...string) bool {
	c := Get(obj, t)
	if c == nil {
		return false
	}
	for _, r := range reasons {
		if c.Reason == r {
			return true
		}
	}
	return false
}

// MarkTrue, MarkFalse and MarkUnknown set the condition of type t for the
// object's current generation.
func MarkTrue(obj Setter, t, reason, format string, args ...any) {
	set(obj, t, metav1.ConditionTrue, reason, format, args...)
}

func MarkFalse(obj Setter, t, reason, format string, args ...any) {
	set(obj, t, metav1.ConditionFalse, reason, format, args...)
}

func MarkUnknown(obj Setter, t, reason, format string, args ...any) {
	set(obj, t, metav1.ConditionUnknown, reason, format, args...)
}

// MarkReconciling sets Reconciling=True and removes Stalled (the object
// is being worked on, so it is not stalled).
func MarkReconciling(obj Setter, reason, format string, args ...any) {
	Delete(obj, Stalled)
	MarkTrue(obj, Reconciling, reason, format, args...)
}

// MarkStalled sets Stalled=True and removes Reconciling: nothing more
// happens until the object changes.
func MarkStalled(obj Setter, reason, format string, args ...any) {
	Delete(obj, Reconciling)
	MarkTrue(obj, Stalled, reason, format, args...)
}

// Delete removes the condition of type t.
func Delete(obj Setter, t string) {
	var out []metav1.Condition
	for _, c := range obj.GetConditions() {
		if c.Type != t {
			out = append(out, c)
		}
	}
	obj.SetConditions(out)
}

// Set puts c in place of the condition of its type. The transition time
// is kept when the status did not change, and set to now when it did.
func Set(obj Setter, c metav1.Condition) {
	conds := obj.GetConditions()
	found := false
	for i := range conds {
		if conds[i].Type != c.Type {
			continue
		}
		found = true
		if conds[i].Status == c.Status {
			c.LastTransitionTime = conds[i].LastTransitionTime
		}
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = metav1.Now()
		}
		conds[i] = c
	}
	if !found {
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = metav1.Now()
		}
		conds = append(conds, c)
	}
	Sort(conds)
	obj.SetConditions(conds)
}

func set(obj Setter, t string, status metav1.ConditionStatus, reason, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	Set(obj, metav1.Condition{
		Type: t, Status: status, Reason: reason, Message: msg,
		ObservedGeneration: obj.GetGeneration(),
	})
}

// first lists the condition types that lead, in this order.
var first = map[string]int{Stalled: 0, Reconciling: 1, Ready: 2}

// Sort orders conditions as Flux does: Stalled, Reconciling, Ready, then
// every other type alphabetically.
func Sort(conds []metav1.Condition) {
	sort.SliceStable(conds, func(i, j int) bool {
		pi, iFirst := first[conds[i].Type]
		pj, jFirst := first[conds[j].Type]
		switch {
		case iFirst && jFirst:
			return pi < pj
		case iFirst != jFirst:
			return iFirst
		default:
			return conds[i].Type < conds[j].Type
		}
	})
}
