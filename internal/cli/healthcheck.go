package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCmd asks a running server whether it is healthy, for
// container health checks in images without curl (see the Dockerfile).
func (a *app) healthcheckCmd() *cobra.Command {
	var addr string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:    "healthcheck [--addr 127.0.0.1:8080]",
		Short:  "Exit 0 when the server at --addr answers /healthz, 1 otherwise",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return &flagError{cmd: "distill healthcheck", err: fmt.Errorf("--addr %s: %v", addr, err)}
			}
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1" // a server listening on every address answers on loopback
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			url := "http://" + net.JoinHostPort(host, port) + "/healthz"
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("server at %s is not healthy: %w", addr, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("server at %s is not healthy: %s", addr, resp.Status)
			}
			fmt.Fprintln(a.stdout, "ok")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the server's address (host:port)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	return cmd
}
