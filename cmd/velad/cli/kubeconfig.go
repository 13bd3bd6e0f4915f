package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/kubeconfig"
)

func newKubeconfigCommand() *cobra.Command {
	var (
		dataDir  string
		external bool
		bindIP   string
		port     int
	)
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the admin kubeconfig",
		Long: `Print the admin kubeconfig of the server using --data-dir.
With --external the server address is the server's --bind-ip (or the
--bind-ip given here), for use from other machines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			paths := config.NewPaths(dataDir)
			file := paths.AdminKubeconfig
			if external && bindIP == "" {
				file = paths.ExternalAdminKubeconfig
			}
			data, err := os.ReadFile(file)
			if errors.Is(err, os.ErrNotExist) && file == paths.ExternalAdminKubeconfig {
				if _, statErr := os.Stat(paths.AdminKubeconfig); statErr == nil {
					return errors.New("the server runs without --bind-ip, so there is no external address: pass --bind-ip here, or restart the server with --bind-ip")
				}
			}
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no kubeconfig in %s: run 'velad server' or 'velad install' first, or pass the --data-dir it uses", dataDir)
			}
			if err != nil {
				return fmt.Errorf("read kubeconfig: %w", err)
			}
			if external && bindIP != "" {
				if net.ParseIP(bindIP) == nil {
					return fmt.Errorf("--bind-ip %q is not an IP address", bindIP)
				}
				data, err = kubeconfig.WithServer(data, "https://"+net.JoinHostPort(bindIP, strconv.Itoa(port)))
				if err != nil {
					return err
				}
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&dataDir, "data-dir", config.DefaultDataDir, "data dir of the server")
	fs.BoolVar(&external, "external", false, "use the bind IP as the server address")
	fs.StringVar(&bindIP, "bind-ip", "", "address for --external")
	fs.IntVar(&port, "https-listen-port", config.DefaultHTTPSPort, "API server port for --external")
	return cmd
}
