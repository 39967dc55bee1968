//go:build !lite

package cli

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/distill-rag/distill/model/hf"
)

// modelsCmd manages the cache of models fetched from the Hugging Face hub
// for in-process embedding and reranking (hf:ORG/NAME).
func (a *app) modelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "Manage the in-process models fetched from the Hugging Face hub",
		Long: `Models named hf:ORG/NAME (e.g. --embed hf:BAAI/bge-small-en-v1.5 or
--rerank hf:cross-encoder/ms-marco-MiniLM-L-6-v2) run inside distill from
their ONNX export. They are fetched on first use into the model cache
($DISTILL_MODELS, default ` + homeRelative(hf.Default().CacheDir()) + `);
pull fetches one ahead of time, for example before going offline.
HF_ENDPOINT names another hub (a mirror) and HF_TOKEN is sent for gated models.`,
	}
	cmd.AddCommand(a.modelsPullCmd(), a.modelsLsCmd(), a.modelsRmCmd())
	return cmd
}

func (a *app) modelsPullCmd() *cobra.Command {
	var file, revision string
	cmd := &cobra.Command{
		Use:   "pull ORG/NAME...",
		Short: "Fetch models into the cache (resumable, checksums checked)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hub := hf.Default()
			hub.Progress = func(file string, done, total int64) {
				fmt.Fprintf(a.stderr, "  fetched %s (%s)\n", file, humanize.Bytes(uint64(max(done, 0))))
			}
			for _, arg := range args {
				ref, err := hf.ParseRef(arg)
				if err != nil {
					return err
				}
				if revision != "" {
					ref.Revision = revision
				}
				dir, man, err := hub.Pull(cmd.Context(), ref, file)
				if err != nil {
					return err
				}
				var size int64
				for _, f := range man.Files {
					size += f.Size
				}
				if a.jsonOut {
					if err := writeJSON(a.stdout, struct {
						Dir string `json:"dir"`
						*hf.Manifest
					}{dir, man}); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(a.stdout, "hf:%s: %s in %s, %s\n", ref, plural(len(man.Files), "file", "files"), dir, humanize.Bytes(uint64(size)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the ONNX file in the repository (default onnx/model.onnx, then model.onnx)")
	cmd.Flags().StringVar(&revision, "revision", "", "branch, tag or commit (default main)")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}

func (a *app) modelsLsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the cached models",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			hub := hf.Default()
			list, err := hub.List()
			if err != nil {
				return err
			}
			if a.jsonOut {
				type row struct {
					Model  string    `json:"model"`
					Dir    string    `json:"dir"`
					Size   int64     `json:"size"`
					ONNX   string    `json:"onnx,omitempty"`
					Pulled time.Time `json:"pulled,omitzero"`
				}
				rows := []row{}
				for _, c := range list {
					rows = append(rows, row{Model: "hf:" + c.Ref.String(), Dir: c.Dir, Size: c.Size, ONNX: c.ONNX, Pulled: c.Pulled})
				}
				return writeJSON(a.stdout, struct {
					Cache  string `json:"cache"`
					Models []row  `json:"models"`
				}{hub.CacheDir(), rows})
			}
			if len(list) == 0 {
				fmt.Fprintf(a.stdout, "No models in %s. Fetch one with: distill models pull BAAI/bge-small-en-v1.5\n", hub.CacheDir())
				return nil
			}
			var rows [][]string
			for _, c := range list {
				pulled := "by hand"
				if !c.Pulled.IsZero() {
					pulled = c.Pulled.Local().Format("2006-01-02")
				}
				rows = append(rows, []string{"hf:" + c.Ref.String(), humanize.Bytes(uint64(c.Size)), pulled})
			}
			table(a.stdout, []string{"model", "size", "pulled"}, []bool{false, true, false}, rows)
			fmt.Fprintf(a.stdout, "%s in %s\n", plural(len(list), "model", "models"), hub.CacheDir())
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}

func (a *app) modelsRmCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rm ORG/NAME...",
		Short: "Delete cached models",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hub := hf.Default()
			for _, arg := range args {
				ref, err := hf.ParseRef(arg)
				if err != nil {
					return err
				}
				if err := hub.Remove(ref); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "removed hf:%s\n", ref)
			}
			return nil
		},
	}
}
