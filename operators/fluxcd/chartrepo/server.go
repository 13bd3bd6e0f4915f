package chartrepo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// Index renders the repository's index.yaml. Chart URLs are relative
// (<name>-<version>.tgz), so the index works at any address; its
// generated time is the newest push, so an unchanged repository has an
// unchanged index (and a HelmRepository revision that does not move).
func (s *Store) Index(ctx context.Context) ([]byte, error) {
	entries, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	return renderIndex(entries)
}

func renderIndex(entries []Entry) ([]byte, error) {
	idx := repo.NewIndexFile()
	var newest time.Time
	for _, e := range entries {
		if err := idx.MustAdd(e.metadata, e.File(), "", e.Digest); err != nil {
			continue // invalid metadata; Push never stores such a chart
		}
		vs := idx.Entries[e.Name]
		vs[len(vs)-1].Created = e.Created
		if e.Created.After(newest) {
			newest = e.Created
		}
	}
	idx.SortEntries()
	idx.Generated = newest
	out, err := yaml.Marshal(idx)
	if err != nil {
		return nil, fmt.Errorf("render index.yaml: %w", err)
	}
	return out, nil
}

// Handler serves the repository: GET /index.yaml and GET /<name>-<version>.tgz.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		p := strings.TrimPrefix(r.URL.Path, "/")
		switch {
		case p == "index.yaml":
			data, err := s.Index(ctx)
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/x-yaml")
			_, _ = w.Write(data)
		case strings.HasSuffix(p, ".tgz") && !strings.Contains(p, "/"):
			data, err := s.archive(ctx, p)
			if errors.Is(err, ErrNotFound) {
				http.NotFound(w, r)
				return
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/gzip")
			_, _ = w.Write(data)
		default:
			http.NotFound(w, r)
		}
	})
}

// archive finds a .tgz by its file name (names and versions both may hold
// dashes, so the file is matched against the listed entries).
func (s *Store) archive(ctx context.Context, file string) ([]byte, error) {
	entries, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.File() == file {
			data, _, err := s.Get(ctx, e.Name, e.Version)
			return data, err
		}
	}
	return nil, ErrNotFound
}

// versionLess orders semantic versions; what does not parse sorts as text.
func versionLess(a, b string) bool {
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	if errA != nil || errB != nil {
		return a < b
	}
	return va.LessThan(vb)
}
