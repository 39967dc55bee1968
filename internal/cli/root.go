// Package cli is the distill command line: it parses flags, calls the
// engine and prints results for people (80 columns) or as JSON. It holds no
// retrieval logic.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/internal/telemetry"
	"github.com/distill-rag/distill/model"
)

// app holds what every command shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	db             string
	store          string
	configFile     string
	models         distill.Models
	noCache        bool
	jsonOut        bool
	markdown       bool // compare: the study-shaped Markdown table
	style          style
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C stops the command cleanly; a second one, while
		// it winds down, kills the process as usual. stop also ends
		// sigCtx when Main returns, so this goroutine never outlives it.
		<-sigCtx.Done()
		stop()
	}()
	ctx := sigCtx
	// A model server that is slow or failing is retried; say so rather
	// than sit silent through the backoff.
	ctx = model.WithRetryObserver(ctx, func(r model.Retry) {
		fmt.Fprintf(stderr, "distill: %v; retrying (%d/%d) after %s\n", r.Err, r.Attempt+1, r.Attempts, r.Wait.Round(time.Millisecond))
	})
	// Traces go to an OTLP endpoint when the standard variables name one;
	// otherwise no provider is installed and spans cost nothing.
	if shutdown, _, err := telemetry.Setup(ctx); err != nil {
		fmt.Fprintln(stderr, styleFor(stderr).red("distill:")+" warning: "+err.Error())
	} else {
		defer func() {
			// Flush what is batched, without holding the exit for long.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := shutdown(fctx); err != nil {
				fmt.Fprintln(stderr, styleFor(stderr).red("distill:")+" warning: traces not exported: "+err.Error())
			}
		}()
	}
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, style: styleFor(stdout)}
	width = outputWidth(stdout)
	root := a.root()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(stderr, styleFor(stderr).red("distill:")+" "+ex.msg)
		}
		return ex.code
	}
	fmt.Fprintln(stderr, styleFor(stderr).red("distill:")+" "+describe(err))
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return 130 // interrupted, as shells report SIGINT
	}
	return 1
}

// exitError ends a command with a code, after the command printed its own
// report (e.g. ingest with some failed files).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// userError is a mistake in what the user asked for; its message says it
// all, so it is printed without the wrapping of the layers it crossed.
type userError interface {
	error
	UserError()
}

func describe(err error) string {
	var ue userError
	if errors.As(err, &ue) {
		return ue.Error()
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	return err.Error()
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "distill",
		Short: "Ask questions of your documents with several RAG techniques, side by side",
		Long: `distill ingests documents (PDF, text, Markdown, HTML) into a persistent
collection and answers questions from them with retrieval techniques that
you can compare side by side, with what each one costs.

Start with:  distill demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.PersistentFlags().StringVar(&a.db, "db", "", "collection directory (default $DISTILL_DB or "+homeRelative(distill.DefaultDB())+")")
	root.PersistentFlags().StringVar(&a.store, "store", "", "store URI, e.g. weaviate:http://127.0.0.1:8080?collection=Letters (default $DISTILL_STORE, the config's store, else the embedded store at --db)")
	root.PersistentFlags().StringVar(&a.configFile, "config", "", "configuration file (default $DISTILL_CONFIG or the user config directory's distill/config.yaml)")
	root.PersistentFlags().StringVar(&a.models.LLM, "llm", "", "language model URI, e.g. ollama:mixtral (default $DISTILL_LLM; none = offline)")
	root.PersistentFlags().StringVar(&a.models.Embed, "embed", "", "embedding model URI, e.g. tei:http://127.0.0.1:8080 (default $DISTILL_EMBED)")
	root.PersistentFlags().StringVar(&a.models.Rerank, "rerank", "", "reranker URI, e.g. tei:http://127.0.0.1:8081 (default $DISTILL_RERANK)")
	root.MarkPersistentFlagDirname("db")
	root.MarkPersistentFlagFilename("config", "yaml", "yml")
	root.PersistentFlags().BoolVar(&a.noCache, "no-cache", false, "send every compression and filter call to the LLM, bypassing the LLM cache")
	root.AddCommand(a.ingestCmd(), a.syncCmd(), a.askCmd(), a.compareCmd(), a.lsCmd(), a.rmCmd(), a.demoCmd(), a.techniquesCmd())
	root.AddCommand(a.heavyCmds()...)
	root.AddCommand(a.checkCmd())
	root.AddCommand(a.evalCmd())
	root.AddCommand(a.benchCmd())
	root.AddCommand(a.serveCmd())
	root.AddCommand(a.reindexCmd())
	root.AddCommand(a.migrateCmd())
	root.AddCommand(a.healthcheckCmd())
	root.AddCommand(a.infoCmd(), a.envCmd(), a.cacheCmd())
	root.AddCommand(a.mcpCmd())
	// Help fits the terminal (80 columns when it is not one): flag
	// descriptions wrap under their flag instead of running on.
	cobra.AddTemplateFunc("wrappedFlags", func(fs *pflag.FlagSet) string { return fs.FlagUsagesWrapped(width - 1) })
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			for _, sub := range c.Commands() {
				sub.Long = fitLines(sub.Long, width)
			}
		}
	}
	tmpl := root.UsageTemplate()
	tmpl = strings.ReplaceAll(tmpl, ".LocalFlags.FlagUsages", "wrappedFlags .LocalFlags")
	tmpl = strings.ReplaceAll(tmpl, ".InheritedFlags.FlagUsages", "wrappedFlags .InheritedFlags")
	root.SetUsageTemplate(tmpl)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &flagError{cmd: c.CommandPath(), err: err}
	})
	return root
}

type flagError struct {
	cmd string
	err error
}

func (e *flagError) Error() string {
	// Main prefixes "distill: ", so the command path leaves it out.
	name := strings.TrimPrefix(strings.TrimPrefix(e.cmd, "distill"), " ")
	if name == "" {
		return fmt.Sprintf("%v (see %s --help)", e.err, e.cmd)
	}
	return fmt.Sprintf("%s: %v (see %s --help)", name, e.err, e.cmd)
}

func (e *flagError) UserError() {}

// open opens the engine on the selected collection.
func (a *app) open(ctx context.Context, create bool) (*distill.Engine, error) {
	eng, err := a.openQuiet(ctx, create)
	if err != nil {
		return nil, err
	}
	for _, w := range eng.Warnings() {
		fmt.Fprintln(a.stderr, "distill: warning: "+w)
	}
	return eng, nil
}

// openQuiet opens the engine without printing its warnings, for commands
// that act on them (reindex rebuilds the splits they are about).
func (a *app) openQuiet(ctx context.Context, create bool) (*distill.Engine, error) {
	return distill.Open(ctx, distill.Options{DB: a.db, Store: a.store, Create: create, ConfigFile: a.configFile, Models: a.models, NoCache: a.noCache})
}

// isTerminal reports whether w is a terminal, for progress bars.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
