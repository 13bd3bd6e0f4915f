package appcli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	helmrelease "helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// helmReleaseGroup is Flux's HelmRelease API group (the fluxcd addon's
// helm component renders HelmReleases).
const helmReleaseGroup = "helm.toolkit.fluxcd.io"

// children lists what an applied object made on its behalf, for the
// tree of `velad status APP --tree`: for a Flux HelmRelease, the objects
// of its current Helm release. Other kinds have none.
func children(ctx context.Context, c client.Client, ref v1beta1.ClusterObjectReference) ([]Resource, error) {
	// (A joined cluster's objects are not read from here.)
	if ref.Kind != "HelmRelease" || apiGroup(ref.APIVersion) != helmReleaseGroup || ref.Cluster != "" && ref.Cluster != "local" {
		return nil, nil
	}
	return helmReleaseObjects(ctx, c, ref)
}

func apiGroup(apiVersion string) string {
	for i := len(apiVersion) - 1; i >= 0; i-- {
		if apiVersion[i] == '/' {
			return apiVersion[:i]
		}
	}
	return ""
}

// helmReleaseObjects reads the HelmRelease's latest Helm release (its
// status names it: history[0] and storageNamespace) from the record Helm
// keeps as a Secret, and lists the objects of its manifest.
func helmReleaseObjects(ctx context.Context, c client.Client, ref v1beta1.ClusterObjectReference) ([]Resource, error) {
	hr := &unstructured.Unstructured{}
	hr.SetAPIVersion(ref.APIVersion)
	hr.SetKind(ref.Kind)
	if err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, hr); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get HelmRelease %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	history, _, _ := unstructured.NestedSlice(hr.Object, "status", "history")
	if len(history) == 0 {
		return nil, nil // not released yet
	}
	latest, _ := history[0].(map[string]any)
	name, _ := latest["name"].(string)
	version, ok := latest["version"].(int64)
	if !ok {
		if f, isFloat := latest["version"].(float64); isFloat {
			version = int64(f)
		}
	}
	storage, _, _ := unstructured.NestedString(hr.Object, "status", "storageNamespace")
	if storage == "" {
		storage = ref.Namespace
	}
	if name == "" || version == 0 {
		return nil, nil
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: storage, Name: "sh.helm.release.v1." + name + ".v" + strconv.FormatInt(version, 10)}
	if err := c.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil // uninstalled meanwhile
		}
		return nil, fmt.Errorf("read Helm release %s: %w", key, err)
	}
	rel, err := decodeRelease(secret.Data["release"])
	if err != nil {
		return nil, fmt.Errorf("read Helm release %s: %w", key, err)
	}
	return manifestObjects(c, rel)
}

// decodeRelease reads a release record as Helm's Secret storage driver
// writes it: base64 of the gzipped JSON of the release.
func decodeRelease(data []byte) (*helmrelease.Release, error) {
	b, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, err
	}
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		if b, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	rel := &helmrelease.Release{}
	if err := json.Unmarshal(b, rel); err != nil {
		return nil, err
	}
	return rel, nil
}

// manifestObjects lists the objects of a release's manifest, with the
// release's namespace on those that are namespaced and name none.
func manifestObjects(c client.Client, rel *helmrelease.Release) ([]Resource, error) {
	var out []Resource
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader([]byte(rel.Manifest))))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the manifest of Helm release %s/%s: %w", rel.Namespace, rel.Name, err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil || u.GetKind() == "" {
			continue // comments only, or not an object
		}
		ns := u.GetNamespace()
		if ns == "" {
			if namespaced, err := c.IsObjectNamespaced(u); err != nil || namespaced {
				ns = rel.Namespace // unknown kinds are taken as namespaced
			}
		}
		out = append(out, Resource{Ref: v1beta1.ClusterObjectReference{ObjectReference: v1beta1.ObjectReference{
			APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Name: u.GetName(), Namespace: ns,
		}}})
	}
}
