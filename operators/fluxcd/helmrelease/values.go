package helmrelease

import (
	"context"
	"crypto/sha1" //nolint:gosec // v2beta1's values checksum is sha1 by definition
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// valuesSource is one resolved spec.valuesFrom entry: its data, or
// missing when an optional reference found nothing.
type valuesSource struct {
	ref  meta.ValuesReference
	data string
}

// ComposeValues builds a release's values the way Flux documents it:
// valuesFrom entries in list order (later wins), then the inline values
// on top; an entry with targetPath sets that one path (Helm --set syntax,
// --set-literal with literal: true) over everything else, inline values
// included. Optional references that do not exist are skipped.
func ComposeValues(ctx context.Context, r client.Reader, hr *helmv2.HelmRelease) (map[string]any, error) {
	var sources []valuesSource
	objects := map[string]client.Object{}
	for _, ref := range hr.Spec.ValuesFrom {
		data, found, err := resolveRef(ctx, r, hr.Namespace, ref, objects)
		if err != nil {
			return nil, err
		}
		if found {
			sources = append(sources, valuesSource{ref: ref, data: data})
		}
	}
	return mergeValues(sources, hr.GetValues())
}

func resolveRef(ctx context.Context, r client.Reader, ns string, ref meta.ValuesReference, objects map[string]client.Object) (string, bool, error) {
	describe := func(reason string) error {
		opt := ""
		if ref.Optional {
			opt = " optional"
		}
		return fmt.Errorf("could not resolve%s %s chart values reference '%s/%s' with key '%s': %s",
			opt, ref.Kind, ns, ref.Name, ref.GetValuesKey(), reason)
	}
	key := ref.Kind + "/" + ref.Name
	obj, seen := objects[key]
	if !seen {
		switch ref.Kind {
		case "ConfigMap":
			obj = &corev1.ConfigMap{}
		case "Secret":
			obj = &corev1.Secret{}
		default:
			return "", false, describe("unsupported values reference kind")
		}
		if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, obj); err != nil {
			if !apierrors.IsNotFound(err) {
				return "", false, describe(err.Error())
			}
			obj = nil
		}
		objects[key] = obj
	}
	if obj == nil {
		if ref.Optional {
			return "", false, nil
		}
		return "", false, describe("resource not found")
	}
	var data string
	var ok bool
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		data, ok = o.Data[ref.GetValuesKey()]
	case *corev1.Secret:
		var b []byte
		b, ok = o.Data[ref.GetValuesKey()]
		data = string(b)
	}
	if !ok {
		if ref.Optional {
			return "", false, nil
		}
		return "", false, describe("key not found")
	}
	return data, true, nil
}

// mergeValues is the pure part of ComposeValues.
func mergeValues(sources []valuesSource, inline map[string]any) (map[string]any, error) {
	result := map[string]any{}
	for _, s := range sources {
		if s.ref.TargetPath != "" {
			continue
		}
		vals, err := chartutil.ReadValues([]byte(s.data))
		if err != nil {
			return nil, fmt.Errorf("could not read values of %s '%s' key '%s': %w", s.ref.Kind, s.ref.Name, s.ref.GetValuesKey(), err)
		}
		result = MergeMaps(result, vals)
	}
	result = MergeMaps(result, deepCopy(inline).(map[string]any))
	for _, s := range sources {
		if s.ref.TargetPath == "" {
			continue
		}
		if err := setPath(result, s.ref.TargetPath, s.data, s.ref.Literal); err != nil {
			return nil, fmt.Errorf("could not set targetPath '%s' from %s '%s' key '%s': %w",
				s.ref.TargetPath, s.ref.Kind, s.ref.Name, s.ref.GetValuesKey(), err)
		}
	}
	return result, nil
}

// setPath sets one value at a --set style path. A quoted value is a
// string (as --set-string); literal keeps the value verbatim.
func setPath(values map[string]any, path, value string, literal bool) error {
	if literal {
		// --set-string with every character the parser would read
		// escaped: the value arrives verbatim, the path keeps its syntax.
		return strvals.ParseIntoString(path+"="+literalEscaper.Replace(value), values)
	}
	single := len(value) >= 2 && strings.HasPrefix(value, "'") && strings.HasSuffix(value, "'")
	double := len(value) >= 2 && strings.HasPrefix(value, `"`) && strings.HasSuffix(value, `"`)
	if single || double {
		return strvals.ParseIntoString(path+"="+value[1:len(value)-1], values)
	}
	return strvals.ParseInto(path+"="+value, values)
}

// literalEscaper escapes what Helm's --set parser reads in a value
// (backslash first, so later escapes are not escaped again).
var literalEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`, `[`, `\[`, `]`, `\]`, `{`, `\{`, `}`, `\}`)

// MergeMaps merges b into a copy of a: nested maps merge, anything else
// in b replaces a's.
func MergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = MergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// ConfigDigest is the digest of composed values (status
// lastAttemptedConfigDigest and history configDigest): sha256 of their
// JSON (keys sorted).
func ConfigDigest(values map[string]any) string {
	if values == nil {
		// Helm stores empty values as none: both are "{}".
		values = map[string]any{}
	}
	data, _ := json.Marshal(values)
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ValuesChecksum is v2beta1's lastAttemptedValuesChecksum: the sha1 of
// the values as YAML.
func ValuesChecksum(values map[string]any) string {
	y, _ := chartutil.Values(values).YAML()
	sum := sha1.Sum([]byte(y)) //nolint:gosec
	return hex.EncodeToString(sum[:])
}

// deepCopy copies maps and lists, so setting a path never writes into the
// object's own values.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	default:
		return v
	}
}
