package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/pki"
	"github.com/velad-dev/velad/embedded/token"
)

func newTokenCommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the server token (K10<CA hash>::server:<secret>); create, list and revoke join tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := readFileHint(config.NewPaths(dataDir).TokenFile, "run 'velad install' first, or pass --data-dir")
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", config.DefaultDataDir, "data dir of the server")
	cmd.AddCommand(newTokenCreateCommand(&dataDir), newTokenListCommand(&dataDir), newTokenRevokeCommand(&dataDir))
	return cmd
}

// tokenStore reaches the server of dataDir as its admin.
func tokenStore(dataDir string) (token.Store, error) {
	p := config.NewPaths(dataDir)
	rc, err := clientcmd.BuildConfigFromFlags("", p.AdminKubeconfig)
	if err != nil {
		return token.Store{}, fmt.Errorf("read %s (%v); run this on the server, or pass --data-dir", p.AdminKubeconfig, err)
	}
	rc.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return token.Store{}, err
	}
	return token.Store{Client: cs}, nil
}

func newTokenCreateCommand(dataDir *string) *cobra.Command {
	var opts token.JoinOptions
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Make a join token for agents (printed once; stored hashed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.NodePool != "" {
				c := config.Config{NodePool: opts.NodePool}
				if err := c.Validate(); err != nil && strings.Contains(err.Error(), "--node-pool") {
					return fmt.Errorf("--node-pool %q is not a valid pool name; use lowercase letters, digits and '-'", opts.NodePool)
				}
			}
			store, err := tokenStore(*dataDir)
			if err != nil {
				return err
			}
			ca, err := os.ReadFile(pki.Spec{Dir: config.NewPaths(*dataDir).TLSDir}.CertFile(pki.ServerCA))
			if err != nil {
				return fmt.Errorf("read the server CA (%v); run this on the server, or pass --data-dir", err)
			}
			j, secret, err := token.NewJoin(opts, time.Now())
			if err != nil {
				return err
			}
			if err := store.Create(cmd.Context(), j); err != nil {
				return err
			}
			t := token.Token{CAHash: token.CAHash(ca), ID: j.ID, Secret: secret}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), t.String())
			return err
		},
	}
	cmd.Flags().DurationVar(&opts.TTL, "ttl", 24*time.Hour, "how long the token works (0: until revoked)")
	cmd.Flags().StringVar(&opts.NodePool, "node-pool", "", "NodePool the token's agents join")
	cmd.Flags().BoolVar(&opts.OneTime, "one-time", false, "the token joins one node only")
	cmd.Flags().StringVar(&opts.Description, "description", "", "what the token is for (shown by list)")
	return cmd
}

func newTokenListCommand(dataDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List join tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := tokenStore(*dataDir)
			if err != nil {
				return err
			}
			tokens, err := store.List(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tPOOL\tEXPIRES\tUSES\tDESCRIPTION")
			now := time.Now()
			for _, j := range tokens {
				pool, expires, uses := dash(j.NodePool), "never", fmt.Sprint(j.Uses)
				if !j.Expires.IsZero() {
					expires = j.Expires.Format(time.RFC3339)
					if !now.Before(j.Expires) {
						expires += " (expired)"
					}
				}
				if j.OneTime {
					uses += "/1"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", j.ID, pool, expires, uses, j.Description)
			}
			return w.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newTokenRevokeCommand(dataDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a join token (nodes that joined with it stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := tokenStore(*dataDir)
			if err != nil {
				return err
			}
			if err := store.Revoke(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "revoked join token %s\n", args[0])
			return err
		},
	}
}
