package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/store"
)

const whereUsage = "limit retrieval to chunks matching KEY=VALUE, KEY!=VALUE, KEY>=N, KEY<=N, KEY>N, KEY<N or KEY~GLOB " +
	"(repeatable, ANDed; keys: source, doc_id, page, type, ingested, or any --meta key)"

// addWhere adds the repeatable --where flag.
func addWhere(cmd *cobra.Command, where *[]string) {
	cmd.Flags().StringArrayVar(where, "where", nil, whereUsage)
}

// parseWhere parses --where expressions; a malformed one is a flag error.
func parseWhere(cmd *cobra.Command, exprs []string) (*store.Filter, error) {
	f, err := distill.ParseWhere(exprs)
	if err != nil {
		return nil, &flagError{cmd: cmd.CommandPath(), err: fmt.Errorf("--where: %w", err)}
	}
	return f, nil
}
