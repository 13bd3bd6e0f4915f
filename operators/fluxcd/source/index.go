package source

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// LoadIndex parses a repository index with Helm's loader (which checks it
// and sorts every chart's versions newest first) and returns it with its
// canonical form: the sorted index as YAML, whose sha256 is the revision.
func LoadIndex(data []byte) (*repo.IndexFile, []byte, error) {
	// Helm's validating loader reads files only.
	f, err := os.CreateTemp("", "velad-index-*.yaml")
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := f.Close(); err != nil {
		return nil, nil, err
	}
	idx, err := repo.LoadIndexFile(f.Name())
	if err != nil {
		return nil, nil, fmt.Errorf("%w", unwrapPath(err))
	}
	canonical, err := yaml.Marshal(idx)
	if err != nil {
		return nil, nil, err
	}
	return idx, canonical, nil
}

// unwrapPath drops Helm's "error loading /tmp/…:" prefix, which names our
// temporary file rather than anything the user knows.
type pathless struct{ err error }

func (p pathless) Error() string {
	type causer interface{ Cause() error }
	if c, ok := p.err.(causer); ok && c.Cause() != nil {
		return c.Cause().Error()
	}
	return p.err.Error()
}

func unwrapPath(err error) error { return pathless{err} }

// Revision is the revision of a canonical index: sha256:<hex>.
func Revision(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}
