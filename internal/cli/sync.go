package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/loader"
)

func (a *app) syncCmd() *cobra.Command {
	var (
		dryRun   bool
		watch    bool
		debounce time.Duration
		meta     []string
		maxBytes int64
		maxPages int
	)
	cmd := &cobra.Command{
		Use:   "sync DIR...",
		Short: "Make the collection mirror directories: add, replace and remove",
		Long: `Make the collection mirror directories. Files under them that are new are
added, changed ones replaced (each in one transaction), and documents whose
source file under a directory is gone are removed with their chunks and
vectors. Documents from elsewhere are left alone. --dry-run prints the plan
without changing anything; --watch keeps running and applies changes as
they happen, until Ctrl-C.`,
		Example: `  distill sync ~/letters
  distill sync --dry-run ~/letters ~/contracts
  distill sync --watch ~/letters`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dryRun && watch {
				return &flagError{cmd: "distill sync", err: errors.New("--dry-run and --watch cannot be combined")}
			}
			if debounce < 0 {
				return &flagError{cmd: "distill sync", err: fmt.Errorf("--debounce %v: must not be negative", debounce)}
			}
			opts := distill.SyncOptions{DryRun: dryRun, Ingest: ingest.Options{MaxBytes: maxBytes, MaxPages: maxPages}}
			var err error
			if opts.Ingest.Meta, err = parseMeta(meta); err != nil {
				return &flagError{cmd: "distill sync", err: err}
			}
			eng, err := a.open(cmd.Context(), !dryRun)
			if err != nil {
				return err
			}
			defer eng.Close()
			if watch {
				return a.watch(cmd.Context(), eng, args, distill.WatchOptions{Sync: opts, Debounce: debounce})
			}
			rep, err := eng.Sync(cmd.Context(), args, opts)
			if rep != nil {
				a.printSync(rep, true)
			}
			if err != nil {
				if errors.Is(err, context.Canceled) && cmd.Context().Err() != nil {
					return &exitError{code: 130, msg: "interrupted: what is stored stays stored; run the same command again to finish the sync"}
				}
				return err
			}
			if n := len(rep.Failures()); n > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%s could not be synced", plural(n, "file", "files"))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be added, replaced and removed; change nothing")
	cmd.Flags().BoolVar(&watch, "watch", false, "keep running and apply changes as they happen (Ctrl-C stops)")
	cmd.Flags().DurationVar(&debounce, "debounce", distill.DefaultDebounce, "with --watch, the quiet time after a change before it is applied")
	cmd.Flags().StringArrayVar(&meta, "meta", nil, "metadata key=value for every document (repeatable)")
	cmd.Flags().Int64Var(&maxBytes, "max-bytes", 0, fmt.Sprintf("largest file accepted (default %d)", loader.DefaultMaxBytes))
	cmd.Flags().IntVar(&maxPages, "max-pages", 0, fmt.Sprintf("most pages accepted in one document (default %d)", loader.DefaultMaxPages))
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the report as JSON (with --watch, one line per batch)")
	return cmd
}

// watch runs a watch until Ctrl-C, printing each batch that did something.
func (a *app) watch(ctx context.Context, eng *distill.Engine, dirs []string, opts distill.WatchOptions) error {
	first := true
	opts.OnSync = func(rep *distill.SyncReport, err error) {
		if rep != nil && (first || syncDidWork(rep)) {
			a.printSync(rep, first)
		}
		if err != nil {
			fmt.Fprintln(a.stderr, a.style.red("distill:")+" "+describe(err))
		}
		if first && !a.jsonOut {
			fmt.Fprintf(a.stderr, "watching %s; Ctrl-C stops\n", plural(len(dirs), "directory", "directories"))
		}
		first = false
	}
	// Ctrl-C is how a watch ends: not an error.
	return eng.Watch(ctx, dirs, opts)
}

func syncDidWork(rep *distill.SyncReport) bool {
	p := rep.Plan
	return len(p.Add)+len(p.Replace)+len(p.Remove)+len(rep.Failures()) > 0
}

// printSync prints a sync's plan (dry run) or what it did; unchanged files
// are listed only when all is true.
func (a *app) printSync(rep *distill.SyncReport, all bool) {
	if a.jsonOut {
		writeJSON(a.stdout, rep)
		return
	}
	p := rep.Plan
	if rep.DryRun {
		for _, group := range [][]distill.SyncItem{p.Add, p.Replace, p.Remove} {
			for _, it := range group {
				fmt.Fprintf(a.stdout, "%-9s  %s\n", it.Action, displayPath(it.Source))
			}
		}
		if all {
			for _, it := range p.Unchanged {
				fmt.Fprintf(a.stdout, "%-9s  %s\n", it.Action, displayPath(it.Source))
			}
		}
		fmt.Fprintf(a.stdout, "plan: %d to add, %d to replace, %d to remove, %d unchanged, %d failed\n",
			len(p.Add), len(p.Replace), len(p.Remove), len(p.Unchanged), len(p.Failed))
		a.printSyncFailures(rep)
		return
	}
	added, replaced, failed := 0, 0, len(p.Failed)
	if rep.Ingest != nil {
		for _, f := range rep.Ingest.Files {
			switch f.Status {
			case ingest.Added:
				added++
			case ingest.Updated:
				replaced++
			case ingest.Failed:
				failed++
				continue
			case ingest.Interrupted:
				continue
			}
			verb := "added"
			if f.Status == ingest.Updated {
				verb = "replaced"
			} else if f.Status == ingest.Unchanged {
				verb = "unchanged"
			}
			fmt.Fprintf(a.stdout, "%-9s  %s (%s, %s)\n", verb, displayPath(f.Source), plural(f.Pages, "page", "pages"), plural(f.Chunks, "chunk", "chunks"))
		}
	}
	for _, d := range rep.Removed {
		fmt.Fprintf(a.stdout, "%-9s  %s\n", "removed", displayPath(d.Source))
	}
	if all {
		for _, it := range p.Unchanged {
			fmt.Fprintf(a.stdout, "%-9s  %s\n", "unchanged", displayPath(it.Source))
		}
	}
	fmt.Fprintf(a.stdout, "%d added, %d replaced, %d removed, %d unchanged, %d failed\n",
		added, replaced, len(rep.Removed), len(p.Unchanged), failed)
	a.printSyncFailures(rep)
}

func (a *app) printSyncFailures(rep *distill.SyncReport) {
	for _, f := range rep.Failures() {
		msg := f.Error
		if err := f.Err(); err != nil {
			msg = describe(err)
		}
		fmt.Fprintf(a.stderr, "distill: %s\n", msg)
	}
}
