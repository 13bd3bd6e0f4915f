// Package manifests holds the cluster services velad runs (CoreDNS,
// local-path storage) as YAML templates carried in the binary, and
// applies them with server-side apply at every start. Objects that were
// applied before but are gone from the manifests are pruned.
package manifests

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

//go:embed *.yaml
var files embed.FS

// ManagedLabel marks every object velad applies from a manifest; its value
// is the manifest's name.
const ManagedLabel = "velad.dev/manifest"

// FieldManager is velad's server-side apply identity.
const FieldManager = "velad"

// Values fill the manifest templates.
type Values struct {
	ClusterDomain     string
	ClusterDNSIP      string
	StoragePath       string
	CoreDNSImage      string
	LocalPathImage    string
	VolumeHelperImage string
}

// Render returns every object of every manifest, labelled, in file order.
func Render(v Values) ([]*unstructured.Unstructured, error) {
	if err := v.validate(); err != nil {
		return nil, err
	}
	names, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, e := range names {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(e.Name()).Option("missingkey=error").Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", e.Name(), err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, v); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", e.Name(), err)
		}
		manifest := strings.TrimSuffix(e.Name(), path.Ext(e.Name()))
		decoder := utilyaml.NewYAMLOrJSONDecoder(&buf, 4096)
		for {
			var m map[string]any
			if err := decoder.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("manifest %s: %w", e.Name(), err)
			}
			if len(m) == 0 {
				continue
			}
			u := &unstructured.Unstructured{Object: m}
			labels := u.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[ManagedLabel] = manifest
			u.SetLabels(labels)
			objs = append(objs, u)
		}
	}
	return objs, nil
}

// YAML renders objects as one multi-document YAML (for golden files).
func YAML(objs []*unstructured.Unstructured) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		buf.Write(data)
	}
	return buf.Bytes(), nil
}

func (v Values) validate() error {
	for name, val := range map[string]string{
		"ClusterDomain": v.ClusterDomain, "ClusterDNSIP": v.ClusterDNSIP, "StoragePath": v.StoragePath,
		"CoreDNSImage": v.CoreDNSImage, "LocalPathImage": v.LocalPathImage, "VolumeHelperImage": v.VolumeHelperImage,
	} {
		if val == "" {
			return fmt.Errorf("manifest value %s is empty", name)
		}
	}
	return nil
}

// Applier applies manifests to a cluster.
type Applier struct {
	Client dynamic.Interface
	Mapper meta.RESTMapper
}

// Apply applies objs and then prunes objects carrying ManagedLabel that
// are no longer among them. Kinds to prune are those of objs plus prune.
func (a Applier) Apply(ctx context.Context, objs []*unstructured.Unstructured, prune []schema.GroupVersionKind) error {
	type key struct {
		gvr       schema.GroupVersionResource
		namespace string
		name      string
	}
	keep := map[key]bool{}
	kinds := slices.Clone(prune)
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		mapping, err := a.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("apply %s %s: %w", gvk.Kind, o.GetName(), err)
		}
		data, err := o.MarshalJSON()
		if err != nil {
			return err
		}
		res := a.resource(mapping, o.GetNamespace())
		force := true
		if _, err := res.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force}); err != nil {
			return fmt.Errorf("apply %s %s: %w", gvk.Kind, o.GetName(), err)
		}
		keep[key{mapping.Resource, o.GetNamespace(), o.GetName()}] = true
		if !slices.Contains(kinds, gvk) {
			kinds = append(kinds, gvk)
		}
	}
	for _, gvk := range kinds {
		mapping, err := a.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			continue // a kind that no longer exists has nothing to prune
		}
		list, err := a.Client.Resource(mapping.Resource).List(ctx, metav1.ListOptions{LabelSelector: ManagedLabel})
		if err != nil {
			return fmt.Errorf("list %s to prune: %w", gvk.Kind, err)
		}
		for _, item := range list.Items {
			if keep[key{mapping.Resource, item.GetNamespace(), item.GetName()}] {
				continue
			}
			if err := a.resource(mapping, item.GetNamespace()).Delete(ctx, item.GetName(), metav1.DeleteOptions{}); err != nil {
				return fmt.Errorf("prune %s %s: %w", gvk.Kind, item.GetName(), err)
			}
		}
	}
	return nil
}

func (a Applier) resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.Client.Resource(m.Resource).Namespace(namespace)
	}
	return a.Client.Resource(m.Resource)
}
