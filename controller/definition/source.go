package definition

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrNotFound is returned (wrapped) by a Source when no definition has
// the requested kind and name.
var ErrNotFound = errors.New("definition not found")

// Source resolves definitions by kind, name and revision (0 = latest).
// Built-ins, user files and, later, a cluster lister implement it.
type Source interface {
	Lookup(ctx context.Context, kind Kind, name string, revision int64) (*Definition, error)
	List(ctx context.Context) ([]*Definition, error)
}

// Set is an in-memory Source. The zero value is empty and ready to use;
// it is safe for concurrent use.
type Set struct {
	mu   sync.RWMutex
	defs map[setKey][]*Definition // ascending revision
}

type setKey struct {
	kind Kind
	name string
}

// NewSet returns a Set holding defs.
func NewSet(defs ...*Definition) *Set {
	s := &Set{}
	for _, d := range defs {
		s.Add(d)
	}
	return s
}

// Add stores d. A definition with the same kind, name and revision is
// replaced. Revision 0 stands for the current definition object, which
// Lookup with revision 0 prefers over numbered DefinitionRevisions.
func (s *Set) Add(d *Definition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.defs == nil {
		s.defs = map[setKey][]*Definition{}
	}
	k := setKey{d.Kind, d.Name}
	list := s.defs[k]
	for i, old := range list {
		if old.Revision == d.Revision {
			list[i] = d
			return
		}
	}
	list = append(list, d)
	for i := len(list) - 1; i > 0 && list[i].Revision < list[i-1].Revision; i-- {
		list[i], list[i-1] = list[i-1], list[i]
	}
	s.defs[k] = list
}

// Lookup implements Source.
func (s *Set) Lookup(_ context.Context, kind Kind, name string, revision int64) (*Definition, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := s.defs[setKey{kind, name}]
	if len(list) == 0 {
		return nil, fmt.Errorf("%s %q: %w", kind, name, ErrNotFound)
	}
	if revision == 0 {
		return latest(list), nil
	}
	for _, d := range list {
		if d.Revision == revision {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%s %q revision v%d: %w", kind, name, revision, ErrNotFound)
}

// List implements Source: the latest revision of every definition, sorted.
func (s *Set) List(context.Context) ([]*Definition, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Definition, 0, len(s.defs))
	for _, list := range s.defs {
		out = append(out, latest(list))
	}
	SortByName(out)
	return out, nil
}

// latest is the definition itself (revision 0) when present, else its
// highest revision.
func latest(list []*Definition) *Definition {
	if list[0].Revision == 0 {
		return list[0]
	}
	return list[len(list)-1]
}

// Chain consults sources in order: the first that knows a definition wins,
// so user definitions placed first override built-ins.
type Chain []Source

// Lookup implements Source.
func (c Chain) Lookup(ctx context.Context, kind Kind, name string, revision int64) (*Definition, error) {
	for _, s := range c {
		d, err := s.Lookup(ctx, kind, name, revision)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	if revision != 0 {
		return nil, fmt.Errorf("%s %q revision v%d: %w", kind, name, revision, ErrNotFound)
	}
	return nil, fmt.Errorf("%s %q: %w", kind, name, ErrNotFound)
}

// List implements Source; earlier sources shadow later ones.
func (c Chain) List(ctx context.Context) ([]*Definition, error) {
	seen := map[setKey]bool{}
	var out []*Definition
	for _, s := range c {
		defs, err := s.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range defs {
			k := setKey{d.Kind, d.Name}
			if !seen[k] {
				seen[k] = true
				out = append(out, d)
			}
		}
	}
	SortByName(out)
	return out, nil
}
