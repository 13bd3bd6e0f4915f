// Package revision keeps ApplicationRevisions: immutable snapshots
// "<app>-v<N>" of an application and every definition it used. A new one
// is made only when the spec, a used definition or the publishVersion
// changes; the newest Limit are kept.
package revision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
)

// DefaultLimit is how many revisions are kept per application.
const DefaultLimit = 10

// Name is the name of revision n of app: "<app>-v<n>".
func Name(app string, n int64) string { return app + "-v" + strconv.FormatInt(n, 10) }

// Hash identifies what a revision renders. With a publishVersion only
// that version counts (edits without a new version are not rolled out);
// otherwise the spec and the spec of every used definition.
func Hash(app *v1beta1.Application, defs []*definition.Definition) (string, error) {
	h := sha256.New()
	if pv := app.Annotations[v1beta1.AnnotationPublishVersion]; pv != "" {
		h.Write([]byte("publishVersion\x00" + pv))
		return hex.EncodeToString(h.Sum(nil))[:16], nil
	}
	spec, err := json.Marshal(app.Spec)
	if err != nil {
		return "", fmt.Errorf("hash application spec: %w", err)
	}
	h.Write(spec)
	sorted := append([]*definition.Definition(nil), defs...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Kind != sorted[j].Kind {
			return sorted[i].Kind < sorted[j].Kind
		}
		return sorted[i].Name < sorted[j].Name
	})
	for _, d := range sorted {
		s, err := json.Marshal(specOf(d.Object))
		if err != nil {
			return "", fmt.Errorf("hash %s %q: %w", d.Kind, d.Name, err)
		}
		fmt.Fprintf(h, "\x00%s\x00%s\x00", d.Kind, d.Name)
		h.Write(s)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func specOf(o client.Object) any {
	switch d := o.(type) {
	case *v1beta1.ComponentDefinition:
		return d.Spec
	case *v1beta1.TraitDefinition:
		return d.Spec
	case *v1beta1.PolicyDefinition:
		return d.Spec
	case *v1beta1.WorkflowStepDefinition:
		return d.Spec
	}
	return nil
}

// Store creates, reads and prunes revisions. Reader should read from the
// API server: revisions are not cached by the controller.
type Store struct {
	Client client.Client
	Reader client.Reader
	Limit  int
}

// Get returns the revision named name.
func (s *Store) Get(ctx context.Context, namespace, name string) (*v1beta1.ApplicationRevision, error) {
	rev := &v1beta1.ApplicationRevision{}
	if err := s.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, rev); err != nil {
		return nil, fmt.Errorf("get application revision %s: %w", name, err)
	}
	return rev, nil
}

// Create stores revision n of app with its definitions, owned by app
// (deleted with it), and prunes revisions beyond the limit.
func (s *Store) Create(ctx context.Context, app *v1beta1.Application, n int64, hash string, defs []*definition.Definition) (*v1beta1.ApplicationRevision, error) {
	rev := Snapshot(app, n, hash, defs)
	if err := s.Client.Create(ctx, rev); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("create application revision %s: %w", rev.Name, err)
		}
		// Left over from an earlier attempt whose status update was lost.
		old, gerr := s.Get(ctx, app.Namespace, rev.Name)
		if gerr != nil {
			return nil, gerr
		}
		old.Spec = rev.Spec
		old.Labels = rev.Labels
		if err := s.Client.Update(ctx, old); err != nil {
			return nil, fmt.Errorf("update application revision %s: %w", rev.Name, err)
		}
		rev = old
	}
	// Revisions are numbered from 1: with n at most the limit there is
	// nothing to prune, and listing them (with their definition snapshots)
	// is costly for the API server when a namespace holds many apps.
	limit := s.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if n <= int64(limit) {
		return rev, nil
	}
	if err := s.Prune(ctx, app); err != nil {
		return rev, err
	}
	return rev, nil
}

// Snapshot builds revision n of app (not stored).
func Snapshot(app *v1beta1.Application, n int64, hash string, defs []*definition.Definition) *v1beta1.ApplicationRevision {
	snap := v1beta1.Application{
		TypeMeta: metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "Application"},
		ObjectMeta: metav1.ObjectMeta{Name: app.Name, Namespace: app.Namespace,
			Labels: app.Labels, Annotations: app.Annotations, Generation: app.Generation, UID: app.UID},
		Spec: *app.Spec.DeepCopy(),
	}
	ctrlTrue := true
	rev := &v1beta1.ApplicationRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: Name(app.Name, n), Namespace: app.Namespace,
			Labels: map[string]string{v1beta1.LabelAppName: app.Name, LabelHash: hash},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1beta1.GroupVersion.String(), Kind: "Application", Name: app.Name, UID: app.UID,
				Controller: &ctrlTrue,
			}},
		},
		Spec: v1beta1.ApplicationRevisionSpec{Application: snap},
	}
	for _, d := range defs {
		key := d.Name
		switch o := d.Object.(type) {
		case *v1beta1.ComponentDefinition:
			put(&rev.Spec.ComponentDefinitions, key, clean(o.DeepCopy()))
		case *v1beta1.TraitDefinition:
			put(&rev.Spec.TraitDefinitions, key, clean(o.DeepCopy()))
		case *v1beta1.PolicyDefinition:
			put(&rev.Spec.PolicyDefinitions, key, clean(o.DeepCopy()))
		case *v1beta1.WorkflowStepDefinition:
			put(&rev.Spec.WorkflowStepDefinitions, key, clean(o.DeepCopy()))
		}
	}
	return rev
}

// LabelHash labels a revision with its hash.
const LabelHash = "app.oam.dev/revision-hash"

func put[T any](m *map[string]T, k string, v *T) {
	if *m == nil {
		*m = map[string]T{}
	}
	(*m)[k] = *v
}

func clean[T client.Object](o T) T {
	o.SetManagedFields(nil)
	o.SetResourceVersion("")
	o.SetUID("")
	o.SetGeneration(0)
	o.SetCreationTimestamp(metav1.Time{})
	return o
}

// Definitions returns the definitions a revision snapshotted, to render
// it exactly as it was.
func Definitions(rev *v1beta1.ApplicationRevision) (*definition.Set, error) {
	set := definition.NewSet()
	add := func(o client.Object) error {
		d, err := definition.FromObject(o, "revision "+rev.Name)
		if err != nil {
			return err
		}
		set.Add(d)
		return nil
	}
	for _, d := range rev.Spec.ComponentDefinitions {
		if err := add(d.DeepCopy()); err != nil {
			return nil, err
		}
	}
	for _, d := range rev.Spec.TraitDefinitions {
		if err := add(d.DeepCopy()); err != nil {
			return nil, err
		}
	}
	for _, d := range rev.Spec.PolicyDefinitions {
		if err := add(d.DeepCopy()); err != nil {
			return nil, err
		}
	}
	for _, d := range rev.Spec.WorkflowStepDefinitions {
		if err := add(d.DeepCopy()); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// Prune deletes the oldest revisions of app beyond the limit; the latest
// is always kept.
func (s *Store) Prune(ctx context.Context, app *v1beta1.Application) error {
	limit := s.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	var l v1beta1.ApplicationRevisionList
	if err := s.Reader.List(ctx, &l, client.InNamespace(app.Namespace), client.MatchingLabels{v1beta1.LabelAppName: app.Name}); err != nil {
		return fmt.Errorf("list application revisions of %s: %w", app.Name, err)
	}
	if len(l.Items) <= limit {
		return nil
	}
	sort.Slice(l.Items, func(i, j int) bool { return Number(l.Items[i].Name, app.Name) < Number(l.Items[j].Name, app.Name) })
	for i := range l.Items[:len(l.Items)-limit] {
		if err := client.IgnoreNotFound(s.Client.Delete(ctx, &l.Items[i])); err != nil {
			return fmt.Errorf("delete application revision %s: %w", l.Items[i].Name, err)
		}
	}
	return nil
}

// Number parses N from "<app>-v<N>"; 0 when name is not a revision of app.
func Number(name, app string) int64 {
	if len(name) <= len(app)+2 || name[:len(app)+2] != app+"-v" {
		return 0
	}
	n, err := strconv.ParseInt(name[len(app)+2:], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// MarkSucceeded records that the workflow of revision name finished
// successfully: what `velad workflow rollback` goes back to.
func (s *Store) MarkSucceeded(ctx context.Context, namespace, name string) error {
	rev := &v1beta1.ApplicationRevision{}
	rev.Namespace, rev.Name = namespace, name
	patch := client.RawPatch(types.MergePatchType, []byte(`{"status":{"succeeded":true}}`))
	if err := s.Client.Status().Patch(ctx, rev, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("mark application revision %s succeeded: %w", name, err)
	}
	return nil
}

// LastSucceeded returns the newest revision of app older than revision
// before whose workflow succeeded, or nil when there is none.
func LastSucceeded(ctx context.Context, r client.Reader, app *v1beta1.Application, before int64) (*v1beta1.ApplicationRevision, error) {
	var l v1beta1.ApplicationRevisionList
	if err := r.List(ctx, &l, client.InNamespace(app.Namespace), client.MatchingLabels{v1beta1.LabelAppName: app.Name}); err != nil {
		return nil, fmt.Errorf("list application revisions of %s: %w", app.Name, err)
	}
	var best *v1beta1.ApplicationRevision
	for i := range l.Items {
		rev := &l.Items[i]
		n := Number(rev.Name, app.Name)
		if !rev.Status.Succeeded || n == 0 || n >= before {
			continue
		}
		if best == nil || n > Number(best.Name, app.Name) {
			best = rev
		}
	}
	return best, nil
}
