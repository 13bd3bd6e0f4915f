package app

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// checkObjectName refuses a rendered object that no request could
// address (no name, or one that is no URL path segment): applying it
// could never succeed, so the app fails at render with the reason
// instead of retrying for ever.
func checkObjectName(u *unstructured.Unstructured) error {
	name := u.GetName()
	if name == "" {
		return fmt.Errorf("%s has no metadata.name", u.GetKind())
	}
	if errs := path.IsValidPathSegmentName(name); len(errs) > 0 {
		return fmt.Errorf("%s %q: not usable as an object name: %s", u.GetKind(), name, strings.Join(errs, "; "))
	}
	if ns := u.GetNamespace(); ns != "" {
		if errs := path.IsValidPathSegmentName(ns); len(errs) > 0 {
			return fmt.Errorf("%s %q: namespace %q is not usable: %s", u.GetKind(), name, ns, strings.Join(errs, "; "))
		}
	}
	return nil
}
