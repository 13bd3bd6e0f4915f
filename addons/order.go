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
