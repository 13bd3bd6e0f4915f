package bootstrap

import (
	"context"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/addons/lifecycle"
	"github.com/velad-dev/velad/embedded/assets"
)

// enableAddons enables the addons install was given (the default ones but
// those --disable-addon names) after the controller, through the library
// behind `velad addon enable`: in dependency order, each installed, or
// upgraded on a re-install (left alone when nothing changed), then waited
// for until ready. A failure undoes that addon's release.
func (in *installer) enableAddons(ctx context.Context) error {
	reg, err := addons.Load()
	if err != nil {
		return err
	}
	m, err := lifecycle.New(reg, lifecycle.Options{
		Kubeconfig: in.o.Config.Paths().AdminKubeconfig,
		Images:     assets.ImageRef,
		Timeout:    in.o.Timeout,
	})
	if err != nil {
		return err
	}
	_, err = m.EnableAll(ctx, in.o.Addons, nil)
	return err
}
