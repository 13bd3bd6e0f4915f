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

// stopAgent removes the agent daemon of this data dir, if `velad join`
// installed one, then refuses to go on while an agent still runs here (its
// load balancer answers): its kubelet would register the Node again.
func (u *uninstaller) stopAgent(context.Context) error {
	if err := NewDaemonFor(AgentDaemon(u.paths)).Remove(); err != nil {
		return fmt.Errorf("remove the agent daemon %s: %w", u.paths.AgentDaemonName, err)
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+fmt.Sprint(u.o.Config.HTTPSPort), time.Second)
	if err == nil {
		conn.Close()
		return errors.New("an agent is still running here (a velad agent started by hand?); stop it first (Ctrl-C, or kill its velad agent process)")
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
