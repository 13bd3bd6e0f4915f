package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/velad-dev/velad/embedded/assets"
	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
)

// Runtime extracts the runtime binaries carried in velad (containerd,
// runc, CNI plugins) to a content-addressed folder of the data dir and
// points config.Paths.RuntimeCurrent at it.
type Runtime struct {
	Config *config.Config

	binDir string
}

var _ component.Component = (*Runtime)(nil)

// Name implements component.Component.
func (r *Runtime) Name() string { return "runtime" }

// Init implements component.Component.
func (r *Runtime) Init(context.Context) error {
	p := r.Config.Paths()
	bin, err := assets.ExtractRuntime(p.RuntimeRoot)
	if err != nil {
		return err
	}
	current := p.RuntimeCurrent
	target := filepath.Base(filepath.Dir(bin))
	if link, err := os.Readlink(current); err != nil || link != target {
		tmp := current + ".tmp"
		_ = os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return fmt.Errorf("link current runtime: %w", err)
		}
		if err := os.Rename(tmp, current); err != nil {
			return fmt.Errorf("link current runtime: %w", err)
		}
	}
	r.binDir = bin
	return nil
}

// BinDir is where the runtime binaries are, once Init ran.
func (r *Runtime) BinDir() string { return r.binDir }

// Start implements component.Component.
func (r *Runtime) Start(context.Context) error { return nil }

// Stop implements component.Component.
func (r *Runtime) Stop() error { return nil }
