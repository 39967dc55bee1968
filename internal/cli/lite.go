//go:build lite

package cli

import (
	"github.com/spf13/cobra"

	_ "github.com/distill-rag/distill/all" // the providers of the lite build
)

// liteBuildError is what a command left out of the lite build answers.
type liteBuildError struct{ cmd string }

func (e *liteBuildError) Error() string {
	return "distill " + e.cmd + " is not in this build of distill (built with -tags lite); build it without the lite tag"
}

func (e *liteBuildError) UserError() {}

// heavyCmds stand in for the commands that need the heavy backends, so
// that they say which build has them instead of "unknown command".
func (a *app) heavyCmds() []*cobra.Command {
	var out []*cobra.Command
	for _, c := range []struct{ use, short string }{
		{"models", "Download and list in-process models (not in the lite build)"},
		{"aws", "Deploy and manage SageMaker endpoints (not in the lite build)"},
	} {
		name := c.use
		out = append(out, &cobra.Command{
			Use: name, Short: c.short, DisableFlagParsing: true,
			RunE: func(*cobra.Command, []string) error { return &liteBuildError{cmd: name} },
		})
	}
	return out
}
