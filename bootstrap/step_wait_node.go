package bootstrap

import "context"

// waitNode waits until this machine's node is Ready.
func (in *installer) waitNode(ctx context.Context) error {
	node := in.o.Config.NodeName
	return waitFor(ctx, in.o.Timeout, "node "+node, func(ctx context.Context) (bool, string) {
		return NodeReady(ctx, in.kube, node)
	})
}
