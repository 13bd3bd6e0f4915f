package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/pki"
	"github.com/velad-dev/velad/embedded/supervisor"
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

// deleteNode asks the server's supervisor to delete the agent's Node
// (the node password proves which node it is; a node's own credentials
// may not delete it).
func (u *uninstaller) deleteNode(ctx context.Context) error {
	st, err := embedded.ReadJoinState(u.paths)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(filepath.Join(u.paths.AgentTLSDir, pki.ServerCA+".crt"))
	if err != nil {
		return err
	}
	password, err := os.ReadFile(u.paths.NodePasswordFile)
	if err != nil {
		return err
	}
	err = supervisor.Leave(ctx, st.ServerURL, ca, supervisor.LeaveRequest{NodeName: st.NodeName, NodePassword: string(password)})
	if err != nil {
		return fmt.Errorf("delete node %s (or delete it on the server: velad kubectl delete node %s): %w", st.NodeName, st.NodeName, err)
	}
	return nil
}
