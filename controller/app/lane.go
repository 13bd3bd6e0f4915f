package app

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/apply"
)

// Apps stay in their lane. The controller applies with its own (broad)
// rights, so without a rule anyone who may create an Application in one
// namespace could write into any other, or make cluster-scoped objects
// (a ClusterRoleBinding to cluster-admin), through it.
//
// The model is a namespace allow-list: an application's objects go into
// its own namespace, and it may not make cluster-scoped objects. Apps in
// the namespaces an administrator lists (Reconciler.CrossNamespace: the
// controller's --cross-namespace-apps, chart value crossNamespaceApps;
// by default only vela-system, where only administrators create apps)
// may write anywhere. "*" lets every app write anywhere (KubeVela's
// behaviour without its authentication feature).

// DefaultCrossNamespace are the namespaces whose apps may write outside
// them when Reconciler.CrossNamespace is nil.
var DefaultCrossNamespace = []string{"vela-system"}

// AnyNamespace in CrossNamespace allows every app to write anywhere.
const AnyNamespace = "*"

// checkLane refuses an object (defaulted: its namespace set) that app may
// not write.
func (r *Reconciler) checkLane(app *v1beta1.Application, u *unstructured.Unstructured) error {
	allowed := r.CrossNamespace
	if allowed == nil {
		allowed = DefaultCrossNamespace
	}
	if slices.Contains(allowed, AnyNamespace) || slices.Contains(allowed, app.Namespace) {
		return nil
	}
	const how = "an application writes only into its own namespace; an administrator may let the apps of a namespace write elsewhere (controller flag --cross-namespace-apps, chart value crossNamespaceApps)"
	switch ns := u.GetNamespace(); {
	case ns == "":
		return fmt.Errorf("%s is cluster-scoped and the application's namespace %q may not make cluster-scoped objects: %s", apply.Describe(u), app.Namespace, how)
	case ns != app.Namespace:
		return fmt.Errorf("%s is outside the application's namespace %q: %s", apply.Describe(u), app.Namespace, how)
	}
	return nil
}
