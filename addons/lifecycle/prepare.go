package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/charts/release"
)

// Plan is one addon ready to be installed: its chart and the values it is
// installed with, already checked against the chart's values schema.
type Plan struct {
	Addon  *addons.Addon
	Chart  *chart.Chart
	Values map[string]any
	// Digest identifies chart and values: equal digests mean installing
	// again would change nothing.
	Digest string
}

// Prepare loads the addon's chart and computes its values: the
// references of the images velad carries, then the user's --set flags. It
// touches no cluster, so bad input changes nothing.
func Prepare(a *addons.Addon, images func(string) (string, error), sets []string) (*Plan, error) {
	ch, err := a.LoadChart()
	if err != nil {
		return nil, fmt.Errorf("addon %s: %w", a.Name, err)
	}
	values := map[string]any{}
	for _, img := range a.Images {
		ref, err := images(img.Name)
		if err != nil {
			return nil, fmt.Errorf("addon %s: %w", a.Name, err)
		}
		repo, tag, err := splitImage(ref)
		if err != nil {
			return nil, fmt.Errorf("addon %s: %w", a.Name, err)
		}
		setPath(values, img.Value+".repository", repo)
		setPath(values, img.Value+".tag", tag)
	}
	if err := release.ParseSet(values, sets); err != nil {
		return nil, fmt.Errorf("addon %s: %w", a.Name, err)
	}
	if err := release.Validate(ch, values); err != nil {
		return nil, fmt.Errorf("addon %s: %w (its values: charts/%s/values.yaml in velad's source)", a.Name, err, a.Chart)
	}
	return &Plan{Addon: a, Chart: ch, Values: values, Digest: digest(ch, values)}, nil
}

// splitImage splits repo:tag (the repo may hold a registry port).
func splitImage(ref string) (string, string, error) {
	i := strings.LastIndex(ref, ":")
	if i <= 0 || strings.Contains(ref[i:], "/") || i == len(ref)-1 {
		return "", "", fmt.Errorf("image %q has no tag; rebuild velad with 'make build'", ref)
	}
	return ref[:i], ref[i+1:], nil
}

// setPath sets a dotted path ("image.tag") in values, making maps on the way.
func setPath(values map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	m := values
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// digest hashes what a release is made of: the chart (as Helm stores it
// in the release record) and the values given. The same chart and values
// read back from a release record hash the same.
func digest(ch *chart.Chart, values map[string]any) string {
	if len(values) == 0 {
		values = nil // Helm reads no values back as nil
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, part := range []any{ch.Metadata, ch.Templates, ch.Values, ch.Schema, ch.Files, values} {
		if err := enc.Encode(part); err != nil {
			// Values come from YAML and --set: always encodable. A digest
			// that matches nothing only makes the next enable upgrade.
			return "unencodable: " + err.Error()
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
