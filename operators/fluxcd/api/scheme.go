// Package api is the API of the fluxcd addon's controller: Flux's own
// types, imported as plain type packages (source.toolkit.fluxcd.io/v1
// HelmRepository, helm.toolkit.fluxcd.io/v2 HelmRelease); this package
// registers them and is where their CRDs are generated from
// (scripts/generate.sh writes charts/fluxcd/crds/).
package api

import (
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// AddToScheme registers the versions the controller reads and writes (the
// storage versions; older served versions share them, conversion None).
func AddToScheme(s *runtime.Scheme) error {
	if err := sourcev1.AddToScheme(s); err != nil {
		return err
	}
	return helmv2.AddToScheme(s)
}

// Scheme is client-go's scheme plus AddToScheme.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}
