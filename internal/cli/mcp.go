package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/mcpserver"
)

func (a *app) mcpCmd() *cobra.Command {
	var allowWrites bool
	var tech string
	cmd := &cobra.Command{
		Use:   "mcp [--allow-writes]",
		Short: "Serve the collection to agents (MCP, on stdin and stdout)",
		Long: `Serve the collection of --db or --store to an agent over the Model Context
Protocol, on stdin and stdout. The agent's client starts this command; see
the README for Claude Desktop and Claude Code.

Tools: search, ask, list_documents, read_page and list_techniques, and the
resources distill://documents/{doc_id}/pages/{page}. No tool writes unless
--allow-writes is given; then ingest_text and remove_document exist too
(and a missing collection is created). distill serve offers the same tools
over HTTP at /mcp.`,
		Example: `  distill --db ~/letters mcp
  distill --db ~/notes mcp --allow-writes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			eng, err := a.open(ctx, allowWrites)
			if err != nil {
				return err
			}
			defer eng.Close()
			if err := checkTechnique(eng, tech); err != nil {
				return &flagError{cmd: cmd.CommandPath(), err: fmt.Errorf("--technique: %w", err)}
			}
			opts := mcpserver.Options{AllowWrites: allowWrites, Version: version(), DefaultTechnique: tech,
				Acquire: func(context.Context) (*distill.Engine, func(), error) { return eng, func() {}, nil }}
			return mcpserver.ServeIO(ctx, opts, a.stdin, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&allowWrites, "allow-writes", false, "offer the tools that change the collection (ingest_text, remove_document)")
	cmd.Flags().StringVarP(&tech, "technique", "t", mcpserver.DefaultTechnique, "technique of search and ask when the agent names none")
	cmd.RegisterFlagCompletionFunc("technique", a.completeTechnique)
	return cmd
}

// checkTechnique says whether name is a configured technique.
func checkTechnique(eng *distill.Engine, name string) error {
	var names []string
	for _, t := range eng.Techniques() {
		names = append(names, t.Name)
	}
	if !slices.Contains(names, name) {
		return &distill.UnknownTechniqueError{Name: name, Known: names}
	}
	return nil
}
