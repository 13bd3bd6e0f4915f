package manager

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// CRDName is the Rollout CRD whose conversion webhook this controller serves.
const CRDName = "rollouts.rollouts.kruise.io"

// caBundle puts the CA of the webhook's serving certificate (ca.crt in the
// certificate directory, made once by the chart and kept across upgrades)
// into the Rollout CRD's conversion webhook, so the API server trusts the
// controller's /convert. It runs at every start: the same CA patched again
// changes nothing, so restarts are safe. Until it succeeds, v1alpha1
// requests fail with the API server's TLS error; v1beta1 never needs it.
type caBundle struct {
	c       client.Client
	certDir string
}

// NeedLeaderElection: every replica serves /convert; any may patch.
func (*caBundle) NeedLeaderElection() bool { return false }

func (b *caBundle) Start(ctx context.Context) error {
	ca, err := os.ReadFile(filepath.Join(b.certDir, "ca.crt"))
	if err != nil {
		return fmt.Errorf("read the conversion webhook's CA: %w", err)
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"conversion": map[string]any{
		"webhook": map[string]any{"clientConfig": map[string]any{"caBundle": base64.StdEncoding.EncodeToString(ca)}},
	}}})
	if err != nil {
		return err
	}
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	crd.SetName(CRDName)
	logger := log.FromContext(ctx).WithName("cabundle")
	for delay := time.Second; ; delay = min(2*delay, 30*time.Second) {
		err := b.c.Patch(ctx, crd, client.RawPatch(types.MergePatchType, patch), client.FieldOwner("rollout-controller"))
		if err == nil {
			logger.Info("conversion webhook CA set", "crd", CRDName)
			return nil
		}
		logger.Error(err, "set the conversion webhook CA (v1alpha1 Rollouts are refused until it is set); retrying", "crd", CRDName, "in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}
