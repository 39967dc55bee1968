package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
)

func (a *app) envCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Show where distill finds and keeps things, and why",
		Long: `Show the collection, the configuration files in the order they apply,
the cache directories and the model URIs in force, each with where it came
from: a flag, an environment variable, the configuration file, the
collection itself, or the default. Nothing is created.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := distill.Env(cmd.Context(), distill.Options{DB: a.db, Store: a.store, ConfigFile: a.configFile, Models: a.models, NoCache: a.noCache})
			if err != nil {
				return err
			}
			if a.jsonOut {
				return writeJSON(a.stdout, env)
			}
			w := a.stdout
			exists := ""
			if !env.Exists {
				exists = ", does not exist yet"
			}
			collectionFlag, collectionEnv := "--db", "DISTILL_DB"
			if a.store != "" {
				collectionFlag = "--store"
			}
			if os.Getenv("DISTILL_STORE") != "" {
				collectionEnv = "DISTILL_STORE"
			}
			fmt.Fprintf(w, "collection  %s  (%s%s)\n", homeRelative(env.Collection.Value), sourceName(env.Collection.From, collectionFlag, collectionEnv), exists)
			fmt.Fprintln(w, "config")
			for _, f := range env.ConfigFiles {
				state := ""
				if !f.Exists {
					state = ", not there"
				}
				fmt.Fprintf(w, "  %s  (%s%s)\n", homeRelative(f.Path), sourceName(f.From, "--config", "DISTILL_CONFIG"), state)
			}
			fmt.Fprintln(w, "models")
			for _, m := range []struct {
				name, flag, env string
				s               distill.Setting
			}{{"llm", "--llm", "DISTILL_LLM", env.LLM}, {"embed", "--embed", "DISTILL_EMBED", env.Embed}, {"rerank", "--rerank", "DISTILL_RERANK", env.Rerank}} {
				if m.s.Value == "" {
					fmt.Fprintf(w, "  %-7s none (set %s or $%s)\n", m.name, m.flag, m.env)
					continue
				}
				fmt.Fprintf(w, "  %-7s %s  (%s)\n", m.name, m.s.Value, sourceName(m.s.From, m.flag, m.env))
			}
			fmt.Fprintln(w, "caches")
			for _, c := range env.Caches {
				vars := map[string]string{"llm answers": "DISTILL_CACHE", "embeddings": "DISTILL_EMBED_CACHE", "pdf reader": "DISTILL_CACHE_DIR"}
				if c.Path == "" {
					fmt.Fprintf(w, "  %-12s off\n", c.Name)
					continue
				}
				fmt.Fprintf(w, "  %-12s %s  (%s)\n", c.Name, homeRelative(c.Path), sourceName(c.From, "--no-cache", vars[c.Name]))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}
