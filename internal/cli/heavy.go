//go:build !lite

package cli

import (
	"github.com/spf13/cobra"

	_ "github.com/distill-rag/distill/all" // every store and model provider
)

// heavyCmds are the commands that need the heavy backends: in-process
// models (models) and AWS (aws). The lite build replaces them.
func (a *app) heavyCmds() []*cobra.Command { return []*cobra.Command{a.modelsCmd(), a.awsCmd()} }
