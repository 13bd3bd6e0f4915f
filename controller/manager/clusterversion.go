package manager

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/velad-dev/velad/controller/render"
)

// context.clusterVersion is the version of the API server the controller
// talks to, as its discovery says (`/version`): read when the manager is
// made and again every ClusterVersionRefresh (the cluster may be
// upgraded under a running controller). Until the first read succeeds,
// renders target the Kubernetes velad embeds.

// ClusterVersionRefresh is how often the cluster's version is read again.
const ClusterVersionRefresh = 10 * time.Minute

// ClusterVersionOf is context.clusterVersion for a server's version.
func ClusterVersionOf(v *version.Info) render.ClusterVersion {
	return render.ClusterVersion{Major: v.Major, Minor: v.Minor, GitVersion: v.GitVersion, Platform: v.Platform}
}

// clusterVersion keeps the renderer's cluster version current.
type clusterVersion struct {
	disc     discovery.ServerVersionInterface
	renderer *render.Renderer
}

// read sets the renderer's version from the server's; false when the
// server did not answer.
func (c clusterVersion) read(ctx context.Context) bool {
	v, err := c.disc.ServerVersion()
	if err != nil {
		log.FromContext(ctx).V(1).Info("cannot read the cluster's version", "error", err.Error())
		return false
	}
	c.renderer.SetClusterVersion(ClusterVersionOf(v))
	return true
}

// Start reads the version at once (retrying every few seconds until the
// server answers), then every ClusterVersionRefresh.
func (c clusterVersion) Start(ctx context.Context) error {
	wait := 2 * time.Second
	for {
		if c.read(ctx) {
			wait = ClusterVersionRefresh
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// NeedLeaderElection: every replica renders (the webhook too).
func (clusterVersion) NeedLeaderElection() bool { return false }
