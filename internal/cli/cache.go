package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/envconfig"
	"github.com/distill-rag/distill/model/embedcache"
	"github.com/distill-rag/distill/model/llmcache"
)

// cacheNames are the names cache ls prints and cache clear takes.
var cacheNames = map[string]string{"llm answers": "llm", "embeddings": "embeddings", "pdf reader": "pdf"}

func (a *app) cacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Show or clear the LLM, embedding and PDF reader caches",
		Long: `distill keeps three caches: the answers of deterministic LLM calls
(compression and filter calls at temperature 0), the vectors of embedded
texts, and PDFium compiled for this machine. The first two are capped at
$DISTILL_CACHE_MAX each (default 1GiB; "off" for no cap): past it the
entries used longest ago are removed.`,
	}
	cmd.AddCommand(a.cacheLsCmd(), a.cacheClearCmd())
	return cmd
}

func (a *app) caches(cmd *cobra.Command) ([]distill.Cache, error) {
	env, err := distill.Env(cmd.Context(), distill.Options{DB: a.db, Store: a.store, ConfigFile: a.configFile, Models: a.models})
	if err != nil {
		return nil, err
	}
	return env.Caches, nil
}

type cacheUsage struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Entries int    `json:"entries"`
	Bytes   int64  `json:"bytes"`
	Max     int64  `json:"max_bytes,omitempty"`
}

func (a *app) cacheLsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "Show each cache's place, entries and size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			caches, err := a.caches(cmd)
			if err != nil {
				return err
			}
			max, err := envconfig.CacheMax()
			if err != nil {
				return err
			}
			var out []cacheUsage
			for _, c := range caches {
				u := cacheUsage{Name: cacheNames[c.Name], Path: c.Path}
				if c.Path != "" {
					if u.Entries, u.Bytes, err = measureCache(cmd, u.Name, c.Path); err != nil {
						return fmt.Errorf("cache %s: %w", c.Path, err)
					}
				}
				if u.Name != "pdf" {
					u.Max = max
				}
				out = append(out, u)
			}
			if a.jsonOut {
				return writeJSON(a.stdout, struct {
					Caches []cacheUsage `json:"caches"`
				}{out})
			}
			var rows [][]string
			for _, u := range out {
				if u.Path == "" {
					rows = append(rows, []string{u.Name, "-", "-", "-", "off"})
					continue
				}
				capText := "no cap"
				if u.Max > 0 {
					capText = byteSize(u.Max)
				} else if u.Name == "pdf" {
					capText = "-"
				}
				rows = append(rows, []string{u.Name, thousands(u.Entries), byteSize(u.Bytes), capText, homeRelative(u.Path)})
			}
			table(a.stdout, []string{"cache", "entries", "size", "cap", "path"}, []bool{false, true, true, true, false}, rows)
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}

func (a *app) cacheClearCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:       "clear [llm|embeddings|pdf]...",
		Short:     "Empty the named caches (all of them without a name)",
		ValidArgs: []string{"llm", "embeddings", "pdf"},
		Args:      cobra.OnlyValidArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			caches, err := a.caches(cmd)
			if err != nil {
				return err
			}
			want := map[string]bool{}
			for _, n := range args {
				want[n] = true
			}
			for _, c := range caches {
				name := cacheNames[c.Name]
				if len(want) > 0 && !want[name] || c.Path == "" {
					continue
				}
				n, size, err := measureCache(cmd, name, c.Path)
				if err != nil {
					return fmt.Errorf("cache %s: %w", c.Path, err)
				}
				if err := clearCache(cmd, name, c.Path); err != nil {
					return fmt.Errorf("cache %s: %w", c.Path, err)
				}
				fmt.Fprintf(a.stdout, "cleared %-10s %s, %s  %s\n", name, plural(n, "entry", "entries"), byteSize(size), homeRelative(c.Path))
			}
			return nil
		},
	}
	return cmd
}

// measureCache counts a cache without creating it.
func measureCache(cmd *cobra.Command, name, path string) (int, int64, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	switch name {
	case "llm":
		c, err := llmcache.OpenMax(path, 0)
		if err != nil {
			return 0, 0, err
		}
		u, err := c.Usage()
		return u.Entries, u.Bytes, err
	case "embeddings":
		c, err := embedcache.OpenMax(path, 0)
		if err != nil {
			return 0, 0, err
		}
		defer c.Close()
		u, err := c.Usage(cmd.Context())
		return u.Entries, u.Bytes, err
	}
	var n int
	var size int64
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n++
				size += info.Size()
			}
		}
		return nil
	})
	return n, size, err
}

func clearCache(cmd *cobra.Command, name, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	switch name {
	case "llm":
		c, err := llmcache.OpenMax(path, 0)
		if err != nil {
			return err
		}
		return c.Clear()
	case "embeddings":
		c, err := embedcache.OpenMax(path, 0)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Clear(cmd.Context())
	}
	// The PDF reader's compiled code: the next PDF compiles it again.
	if !strings.HasSuffix(filepath.Clean(path), "wasm") {
		return fmt.Errorf("refusing to remove %s: not the PDF reader's cache", path)
	}
	return os.RemoveAll(path)
}
