package bootstrap

import "context"

// waitNode waits until this machine's node is Ready, from a status its
// kubelet posted after this run started the daemon: a Ready condition
// left from before a stop or a crash does not count.
func (in *installer) waitNode(ctx context.Context) error {
	node := in.o.Config.NodeName
	return waitFor(ctx, in.o.Timeout, "node "+node, func(ctx context.Context) (bool, string) {
		return NodeReadySince(ctx, in.kube, node, in.started)
	})
}
