// Command crdversions adds served-only versions to a CRD: copies of its
// storage version's schema, subresources and columns, marked deprecated,
// with conversion None. Flux users' older apiVersions
// (helm.toolkit.fluxcd.io/v2beta1, source.toolkit.fluxcd.io/v1beta2, …)
// then apply as they are, stored and read as the current version; a
// field the current version no longer has is refused by kubectl's strict
// validation (and pruned otherwise), never kept half-understood.
//
//	go run ./scripts/crdversions -f crd.yaml v2beta2 v2beta1
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	file := flag.String("f", "", "CRD manifest to rewrite in place")
	flag.Parse()
	if err := run(*file, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "crdversions:", err)
		os.Exit(1)
	}
}

func run(file string, versions []string) error {
	if file == "" || len(versions) == 0 {
		return errors.New("usage: crdversions -f CRD.yaml VERSION…")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var storage *apiextensionsv1.CustomResourceDefinitionVersion
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Storage {
			storage = &crd.Spec.Versions[i]
		}
	}
	if storage == nil {
		return fmt.Errorf("%s: no storage version", file)
	}
	for _, v := range versions {
		for _, have := range crd.Spec.Versions {
			if have.Name == v {
				return fmt.Errorf("%s: version %s exists already", file, v)
			}
		}
		extra := *storage.DeepCopy()
		extra.Name, extra.Storage, extra.Served = v, false, true
		extra.Deprecated = true
		warning := fmt.Sprintf("%s/%s %s is served with the schema of %s; use %s/%s",
			crd.Spec.Group, v, crd.Spec.Names.Kind, storage.Name, crd.Spec.Group, storage.Name)
		extra.DeprecationWarning = &warning
		crd.Spec.Versions = append(crd.Spec.Versions, extra)
	}
	crd.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter}
	// The status and a null creationTimestamp are not part of a manifest.
	raw, err := yaml.Marshal(&crd)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	out, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(file, append([]byte("---\n"), out...), 0o644)
}
