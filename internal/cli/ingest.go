package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/loader"
)

func (a *app) ingestCmd() *cobra.Command {
	var (
		pages    string
		meta     []string
		maxBytes int64
		maxPages int
	)
	cmd := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Add files and directories to the collection",
		Long: `Add files and directories to the collection. Directories are walked
recursively for .pdf, .txt, .md and .html files. A file whose content and
options have not changed since it was ingested is skipped; a changed file
replaces its old pages and chunks in one transaction.`,
		Example: `  distill ingest letters/
  distill ingest --pages 1-8 --meta year=2020 2020-letter.pdf`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := ingest.Options{MaxBytes: maxBytes, MaxPages: maxPages}
			var err error
			if opts.Pages, err = loader.ParsePageRange(pages); err != nil {
				return &flagError{cmd: "distill ingest", err: fmt.Errorf("--pages: %w", err)}
			}
			if opts.Meta, err = parseMeta(meta); err != nil {
				return &flagError{cmd: "distill ingest", err: err}
			}
			eng, err := a.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer eng.Close()
			var bar *progressbar.ProgressBar
			if !a.jsonOut && isTerminal(a.stderr) {
				bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("ingesting"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
				opts.Progress = func(p ingest.Progress) {
					bar.ChangeMax(p.Total)
					bar.Describe(shorten(displayPath(p.File.Source), 30))
					bar.Set(p.Done)
				}
			}
			opts.Preparing = func(what string) {
				if bar != nil {
					bar.Describe(what)
					bar.Add(0)
					return
				}
				fmt.Fprintln(a.stderr, "distill: "+what)
			}
			rep, err := eng.Ingest(cmd.Context(), args, opts)
			if bar != nil {
				bar.Finish()
			}
			if rep != nil && errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
				return a.interruptedIngest(rep)
			}
			if rep != nil {
				a.printIngest(rep)
			}
			if err != nil {
				return err
			}
			if n := rep.Count(ingest.Failed); n > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%s could not be ingested", plural(n, "file", "files"))}
			}
			if len(rep.Files) == 0 {
				// Nothing stored and nothing there to store: the path
				// is probably not the one meant.
				msg := "nothing to ingest: " + strings.Join(args, ", ") + " holds no file of a supported type"
				if n := len(rep.Skipped); n > 0 {
					msg += fmt.Sprintf(" (%s skipped)", plural(n, "file", "files"))
				}
				return &exitError{code: 1, msg: msg}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pages, "pages", "", `pages to ingest, e.g. "1-8" or "1-3,5,9-"`)
	cmd.Flags().StringArrayVar(&meta, "meta", nil, "metadata key=value for every document (repeatable)")
	cmd.Flags().Int64Var(&maxBytes, "max-bytes", 0, fmt.Sprintf("largest file accepted (default %d)", loader.DefaultMaxBytes))
	cmd.Flags().IntVar(&maxPages, "max-pages", 0, fmt.Sprintf("most pages accepted in one document (default %d)", loader.DefaultMaxPages))
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the report as JSON")
	return cmd
}

func parseMeta(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--meta %q: want key=value", p)
		}
		if k == "pages" {
			return nil, fmt.Errorf("--meta %q: the key pages is reserved for the --pages range", p)
		}
		m[k] = v
	}
	return m, nil
}

func (a *app) printIngest(rep *ingest.Report) {
	if a.jsonOut {
		writeJSON(a.stdout, rep)
		return
	}
	for _, f := range rep.Files {
		switch f.Status {
		case ingest.Failed:
			continue
		case ingest.Unchanged:
			fmt.Fprintf(a.stdout, "unchanged  %s\n", displayPath(f.Source))
		default:
			fmt.Fprintf(a.stdout, "%-9s  %s (%s, %s)\n", f.Status, displayPath(f.Source), plural(f.Pages, "page", "pages"), plural(f.Chunks, "chunk", "chunks"))
		}
	}
	added, updated, unchanged, failed := rep.Count(ingest.Added), rep.Count(ingest.Updated), rep.Count(ingest.Unchanged), rep.Count(ingest.Failed)
	fmt.Fprintf(a.stdout, "%d added, %d updated, %d unchanged, %d failed\n", added, updated, unchanged, failed)
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(a.stdout, "%s skipped: %s\n", plural(len(rep.Skipped), "file", "files"), skippedReasons(rep.Skipped))
	}
	for _, f := range rep.Failures() {
		fmt.Fprintf(a.stderr, "distill: %s\n", describe(f.Err()))
	}
}

// skippedReasons counts the skipped files by reason, most frequent first:
// "3 unsupported type .zip, 1 unsupported type .exe".
func skippedReasons(skipped []ingest.Skipped) string {
	count := map[string]int{}
	var reasons []string
	for _, s := range skipped {
		if count[s.Reason] == 0 {
			reasons = append(reasons, s.Reason)
		}
		count[s.Reason]++
	}
	sort.SliceStable(reasons, func(i, j int) bool { return count[reasons[i]] > count[reasons[j]] })
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d %s", count[r], r)
	}
	return strings.Join(parts, ", ")
}

// interruptedIngest reports a run cut short by Ctrl-C in one line: what is
// stored stays stored, and running the same command again resumes (stored
// files are unchanged then). It exits 130, as shells do for SIGINT.
func (a *app) interruptedIngest(rep *ingest.Report) error {
	if a.jsonOut {
		writeJSON(a.stdout, rep)
	}
	stored := rep.Count(ingest.Added) + rep.Count(ingest.Updated)
	left := rep.Count(ingest.Interrupted) + rep.NotStarted
	msg := fmt.Sprintf("interrupted: %s stored by this run, %s left; run the same command again to resume",
		plural(stored, "document", "documents"), plural(left, "file", "files"))
	if n := rep.Count(ingest.Failed); n > 0 {
		msg += fmt.Sprintf(" (%s failed: see distill ingest without interrupting)", plural(n, "file", "files"))
	}
	return &exitError{code: 130, msg: msg}
}
