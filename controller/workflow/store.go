package workflow

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Store keeps each application's workflow Context in a ConfigMap
// `workflow-<app>-context` beside it (owned by it, so it goes with it).
type Store struct {
	Client client.Client
	// Reader reads the ConfigMap (the API server: the controller does not
	// cache ConfigMaps).
	Reader client.Reader
}

// contextKey is the data key of the ConfigMap.
const contextKey = "context"

// ContextName is the name of app's context ConfigMap.
func ContextName(app string) string { return "workflow-" + app + "-context" }

// RunKey identifies one run of a workflow: its revision and start.
func RunKey(st *v1beta1.WorkflowStatus) string {
	if st == nil {
		return ""
	}
	return fmt.Sprintf("%s@%d", st.AppRevision, st.StartTime.Unix())
}

// Load returns app's context for the run key; an empty one when there
// is none or it belongs to another run.
func (s *Store) Load(ctx context.Context, app *v1beta1.Application, key string) (*Context, error) {
	cm := &corev1.ConfigMap{}
	err := s.Reader.Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: ContextName(app.Name)}, cm)
	if apierrors.IsNotFound(err) {
		return NewContext(key), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read workflow context of %s/%s: %w", app.Namespace, app.Name, err)
	}
	c, err := Decode(cm)
	if err != nil || c.Revision != key {
		return NewContext(key), nil
	}
	return c, nil
}

// Decode reads a context ConfigMap.
func Decode(cm *corev1.ConfigMap) (*Context, error) {
	c := &Context{}
	if err := json.Unmarshal([]byte(cm.Data[contextKey]), c); err != nil {
		return nil, fmt.Errorf("workflow context %s: %w", cm.Name, err)
	}
	return c, nil
}

// Save writes c when it changed.
func (s *Store) Save(ctx context.Context, app *v1beta1.Application, c *Context) error {
	if !c.Changed() {
		return nil
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ContextName(app.Name), Namespace: app.Namespace}}
	err = s.Reader.Get(ctx, client.ObjectKeyFromObject(cm), cm)
	switch {
	case apierrors.IsNotFound(err):
		cm.Labels = map[string]string{v1beta1.LabelAppName: app.Name, v1beta1.LabelAppNamespace: app.Namespace}
		cm.OwnerReferences = []metav1.OwnerReference{{APIVersion: v1beta1.GroupVersion.String(), Kind: "Application",
			Name: app.Name, UID: app.UID}}
		cm.Data = map[string]string{contextKey: string(data)}
		err = s.Client.Create(ctx, cm)
	case err == nil:
		cm.Data = map[string]string{contextKey: string(data)}
		err = s.Client.Update(ctx, cm)
	}
	if err != nil {
		return fmt.Errorf("write workflow context of %s/%s: %w", app.Namespace, app.Name, err)
	}
	c.changed = false
	return nil
}

// Delete removes app's context (when the app goes).
func (s *Store) Delete(ctx context.Context, app *v1beta1.Application) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ContextName(app.Name), Namespace: app.Namespace}}
	if err := s.Client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete workflow context of %s/%s: %w", app.Namespace, app.Name, err)
	}
	return nil
}
