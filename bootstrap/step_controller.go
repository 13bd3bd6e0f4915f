package bootstrap

import (
	"context"

	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/install"
)

// installController applies the OAM CRDs (Helm installs a chart's CRDs
// only once and never upgrades them, so velad applies them itself), then
// installs or upgrades the controller's release (controller_chart.go).
func (in *installer) installController(ctx context.Context) error {
	if err := in.connect(); err != nil {
		return err
	}
	if err := install.CRDs(ctx, in.ctrl, in.o.Timeout); err != nil {
		return err
	}
	rc, err := release.New(in.o.Config.Paths().AdminKubeconfig, ControllerNamespace)
	if err != nil {
		return err
	}
	_, err = rc.Apply(ctx, ControllerRelease, in.o.Controller.Chart, in.o.Controller.Values, in.o.Timeout)
	return err
}
