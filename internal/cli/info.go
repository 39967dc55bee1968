package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
)

func (a *app) infoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the collection's store, model, splits and sizes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			info, err := eng.Info(cmd.Context())
			if err != nil {
				return err
			}
			if a.jsonOut {
				return writeJSON(a.stdout, info)
			}
			w := a.stdout
			fmt.Fprintf(w, "store      %s\n", info.Store)
			if info.Schema > 0 {
				fmt.Fprintf(w, "schema     version %d\n", info.Schema)
			}
			switch {
			case info.Embedding.Model != "":
				fmt.Fprintf(w, "vectors    %s, %d dimensions\n", info.Embedding.Model, info.Embedding.Dim)
			default:
				fmt.Fprintln(w, "vectors    none (BM25 only; add them with distill reindex --embed URI)")
			}
			if info.EmbedModel != "" {
				fmt.Fprintf(w, "embedding  %s (from %s)\n", info.EmbedModel, sourceName(info.EmbedFrom, "--embed", "DISTILL_EMBED"))
			}
			fmt.Fprintf(w, "documents  %s, %s, %s, %s loaded\n", thousands(info.Documents), plural(info.Pages, "page", "pages"),
				plural(info.Chunks, "chunk", "chunks"), byteSize(info.Bytes))
			if info.DiskBytes > 0 {
				fmt.Fprintf(w, "on disk    %s\n", byteSize(info.DiskBytes))
			}
			fmt.Fprintln(w, "splits")
			var rows [][]string
			for _, sp := range info.Splits {
				parent := sp.Parent
				if parent == "" {
					parent = "-"
				}
				searched := "no"
				if sp.Search {
					searched = "yes"
				}
				rows = append(rows, []string{"  " + sp.Name, thousands(sp.Size), thousands(sp.Overlap), parent, searched})
			}
			table(w, []string{"  name", "size", "overlap", "parent", "searched"}, []bool{false, true, true, false, false}, rows)
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}

// sourceName says where a setting came from, in the CLI's terms.
func sourceName(src, flag, env string) string {
	switch src {
	case distill.SourceOption:
		return flag
	case distill.SourceEnv:
		return "$" + env
	case distill.SourceConfig:
		return "the configuration file"
	case distill.SourceCollection:
		return "the collection"
	}
	return "the default"
}

// byteSize prints a size in B, kB, MB or GB (powers of 1000).
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
