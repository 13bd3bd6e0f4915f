package addons

import (
	"fmt"
	"strings"
)

// Order returns the named addons and everything they depend on,
// dependencies first, each addon once; otherwise in the order named and
// listed. A dependency cycle is an error naming it.
func (r *Registry) Order(names ...string) ([]*Addon, error) {
	var (
		out   []*Addon
		state = map[string]int{} // 0 unseen, 1 on the current path, 2 done
		path  []string
	)
	var visit func(name string) error
	visit = func(name string) error {
		a, err := r.Get(name)
		if err != nil {
			if len(path) > 0 {
				return fmt.Errorf("addon %s depends on %w", path[len(path)-1], err)
			}
			return err
		}
		switch state[name] {
		case 1:
			i := indexOf(path, name)
			return fmt.Errorf("addons depend on each other in a cycle: %s", strings.Join(append(path[i:], name), " → "))
		case 2:
			return nil
		}
		state[name] = 1
		path = append(path, name)
		for _, d := range a.Dependencies {
			if err := visit(d); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[name] = 2
		out = append(out, a)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// Select is what `velad install` enables: the default addons but those
// disabled (--disable-addon), and what they depend on. Naming an unknown
// addon, or leaving out one that a kept addon needs, is an error.
func (r *Registry) Select(disabled []string) ([]string, error) {
	off := map[string]bool{}
	for _, n := range disabled {
		if _, err := r.Get(n); err != nil {
			return nil, err
		}
		off[n] = true
	}
	var keep []string
	for _, n := range r.Defaults() {
		if !off[n] {
			keep = append(keep, n)
		}
	}
	order, err := r.Order(keep...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range order {
		if off[a.Name] {
			var needs []string
			for _, k := range keep {
				if deps, _ := r.Order(k); contains(deps, a.Name) {
					needs = append(needs, k)
				}
			}
			return nil, fmt.Errorf("addon %s cannot be left out: %s depends on it (disable those too)", a.Name, strings.Join(needs, ", "))
		}
		out = append(out, a.Name)
	}
	return out, nil
}

func contains(list []*Addon, name string) bool {
	for _, a := range list {
		if a.Name == name {
			return true
		}
	}
	return false
}
