// Package storage keeps the artifacts the source controller produces (a
// HelmRepository's index) on disk and serves them over HTTP, as Flux's
// source-controller does: path helmrepository/<ns>/<name>/index-<hex>.yaml,
// URL <BaseURL>/<path>. Only the newest artifact of an object is kept.
package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Storage is a folder of artifacts.
type Storage struct {
	// Root is the folder; BaseURL is where Handler is reachable
	// (e.g. http://charts.flux-system.svc.cluster.local).
	Root    string
	BaseURL string
}

// New makes the root folder.
func New(root, baseURL string) (*Storage, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create artifact storage %s: %w", root, err)
	}
	return &Storage{Root: root, BaseURL: strings.TrimRight(baseURL, "/")}, nil
}

// Dir is the relative folder of one object's artifacts.
func Dir(kind, namespace, name string) string {
	return path.Join(strings.ToLower(kind), namespace, name)
}

// Store writes data as file in the object's folder (atomically), removes
// the object's older files and returns the artifact that describes it.
func (s *Storage) Store(kind, namespace, name, file, revision string, data []byte) (*meta.Artifact, error) {
	rel := path.Join(Dir(kind, namespace, name), file)
	abs := filepath.Join(s.Root, filepath.FromSlash(rel))
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create artifact folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return nil, fmt.Errorf("write artifact: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("write artifact: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("write artifact: %w", err)
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("write artifact: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err == nil {
		for _, e := range entries {
			if e.Name() != file && !strings.HasPrefix(e.Name(), ".tmp-") {
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	sum := sha256.Sum256(data)
	size := int64(len(data))
	return &meta.Artifact{
		Path:           rel,
		URL:            s.BaseURL + "/" + rel,
		Revision:       revision,
		Digest:         "sha256:" + hex.EncodeToString(sum[:]),
		LastUpdateTime: metav1.NewTime(time.Now().Truncate(time.Second)),
		Size:           &size,
	}, nil
}

// Read returns the artifact's content; os.ErrNotExist when it is gone
// (e.g. after a restart, until the source is fetched again).
func (s *Storage) Read(a *meta.Artifact) ([]byte, error) {
	if a == nil || a.Path == "" {
		return nil, os.ErrNotExist
	}
	clean := path.Clean("/" + a.Path)
	if clean != "/"+a.Path {
		return nil, fmt.Errorf("artifact path %q is not clean", a.Path)
	}
	return os.ReadFile(filepath.Join(s.Root, filepath.FromSlash(clean)))
}

// Remove deletes every artifact of an object.
func (s *Storage) Remove(kind, namespace, name string) error {
	err := os.RemoveAll(filepath.Join(s.Root, filepath.FromSlash(Dir(kind, namespace, name))))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove artifacts of %s %s/%s: %w", kind, namespace, name, err)
	}
	return nil
}

// Handler serves the artifacts read-only (GET and HEAD, no listings).
func (s *Storage) Handler() http.Handler {
	files := http.FileServer(http.Dir(s.Root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/") || strings.Contains(r.URL.Path, "/.") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
