// Package charts embeds velad's Helm charts so that the binary (and the
// controller, for its CRDs) carries them: the controller's and one per
// addon (see addons/).
package charts

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

//go:embed all:velad-controller all:fluxcd all:ingress all:rollout
var files embed.FS

// FS returns the embedded charts, one folder per chart.
func FS() fs.FS { return files }

// ControllerCRDs returns the CRD manifests of the velad-controller chart,
// sorted by file name.
func ControllerCRDs() ([][]byte, error) {
	const dir = "velad-controller/crds"
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, fmt.Errorf("read embedded CRDs: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out [][]byte
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".yaml" {
			continue
		}
		data, err := fs.ReadFile(files, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read embedded CRD %s: %w", e.Name(), err)
		}
		out = append(out, data)
	}
	return out, nil
}
