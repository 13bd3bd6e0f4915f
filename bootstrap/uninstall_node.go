package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/velad-dev/velad/embedded"
)

// agentStopped refuses to go on while the agent still runs here (its
// load balancer answers): its kubelet would register the Node again.
func (u *uninstaller) agentStopped(context.Context) error {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+fmt.Sprint(u.o.Config.HTTPSPort), time.Second)
	if err == nil {
		conn.Close()
		return errors.New("the agent is still running here; stop it first (Ctrl-C, or kill its velad agent process)")
	}
	return nil
}

// deleteNode deletes the agent's Node, as the node itself (its kubelet
// credentials), straight at the server's API server.
func (u *uninstaller) deleteNode(ctx context.Context) error {
	st, err := embedded.ReadJoinState(u.paths)
	if err != nil {
		return err
	}
	api, err := st.APIServerURL()
	if err != nil {
		return err
	}
	rc, err := clientcmd.BuildConfigFromFlags(api, u.paths.KubeletKubeconfig)
	if err != nil {
		return err
	}
	rc.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	err = cs.CoreV1().Nodes().Delete(ctx, st.NodeName, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete node %s at %s (delete it on the server: velad kubectl delete node %s): %w", st.NodeName, api, st.NodeName, err)
	}
	return nil
}
