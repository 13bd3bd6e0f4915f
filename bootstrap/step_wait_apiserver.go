package bootstrap

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// waitAPIServer waits until the API server answers with the admin
// kubeconfig the server wrote, and builds the clients the later steps use.
func (in *installer) waitAPIServer(ctx context.Context) error {
	return waitFor(ctx, in.o.Timeout, "the API server", func(ctx context.Context) (bool, string) {
		if err := in.connect(); err != nil {
			if ok, state := in.o.Daemon.Healthy(); !ok {
				return false, state
			}
			return false, err.Error()
		}
		if _, err := in.kube.Discovery().ServerVersion(); err != nil {
			// A server that keeps exiting says why in its log.
			if ok, state := in.o.Daemon.Healthy(); !ok {
				return false, state
			}
			return false, err.Error()
		}
		return true, ""
	})
}

// connect builds the install's clients once the admin kubeconfig exists.
func (in *installer) connect() error {
	if in.kube != nil {
		return nil
	}
	kubeconfig := in.o.Config.Paths().AdminKubeconfig
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("read kubeconfig %s: %w", kubeconfig, err)
	}
	kcfg := *cfg
	kcfg.Timeout = 10 * time.Second
	kube, err := kubernetes.NewForConfig(&kcfg)
	if err != nil {
		return err
	}
	// Applying CRDs and listing definitions may take longer.
	ccfg := *cfg
	ccfg.Timeout = 30 * time.Second
	ctrl, err := client.New(&ccfg, client.Options{})
	if err != nil {
		return err
	}
	in.kube, in.ctrl = kube, ctrl
	return nil
}
