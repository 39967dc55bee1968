package cli

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/server"
)

func (a *app) serveCmd() *cobra.Command {
	var (
		addr        string
		dataDir     string
		collection  string
		keys        []string
		keysFile    string
		corsOrigins []string
		insecure    bool
		allowPaths  []string
		maxBody     int64
		maxUpload   int64
		syncUpload  int64
		maxInFlight int64
		bodyTimeout time.Duration
		bodyMinRate int64
		maxJobs     int
		reqTimeout  time.Duration
		stopTimeout time.Duration
		quiet       bool
		judge       string
		judgePrompt string
		mcpWrites   bool
		readOnly    bool
	)
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080]",
		Short: "Serve the collections over HTTP: JSON API, OpenAI chat, web page",
		Long: `Serve collections over HTTP: a JSON API (see /openapi.json), an
OpenAI-compatible chat endpoint (POST /v1/chat/completions, one model per
technique), the tools of distill mcp for agents (POST /mcp, streamable
HTTP; ?collection=NAME), Prometheus metrics (/metrics) and a web page at /
to compare techniques side by side.

Collections are the directories of a data directory: --data, by default the
directory holding the default collection (` + homeRelative(filepath.Dir(distill.DefaultDB())) + `);
the collection of --db (or ` + filepath.Base(distill.DefaultDB()) + `) is the default one.

The server binds to loopback unless --addr says otherwise; beyond loopback
it needs an API key (or --insecure-no-key). With keys (--api-key-file, the
environment variable DISTILL_API_KEYS, or --api-key) every route but
/healthz, /readyz and the web page's shell needs "Authorization: Bearer
KEY". Web pages of other origins are refused unless --cors-origin allows
them; a keyless server answers only loopback Host names.`,
		Example: `  distill serve
  distill serve --addr :8080 --api-key-file /etc/distill/keys
  curl -s localhost:8080/v1/collections/default/ask \
    -H 'Content-Type: application/json' \
    -d '{"question": "What were the highlights of 2022?"}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			flagErr := func(format string, args ...any) error {
				return &flagError{cmd: "distill serve", err: fmt.Errorf(format, args...)}
			}
			db := a.db
			if db == "" {
				db = distill.DefaultDB()
			}
			if dataDir == "" {
				dataDir = filepath.Dir(db)
			}
			if collection == "" {
				collection = filepath.Base(db)
			}
			if keysFile != "" {
				more, err := readKeys(keysFile)
				if err != nil {
					return flagErr("--api-key-file: %v", err)
				}
				keys = append(keys, more...)
			}
			keys = append(keys, envAPIKeys()...)
			switch {
			case maxInFlight <= 0:
				return flagErr("--max-inflight %d: want a positive number of bytes", maxInFlight)
			case bodyTimeout <= 0:
				return flagErr("--body-timeout %s: want a positive duration", bodyTimeout)
			case bodyMinRate <= 0:
				return flagErr("--body-min-rate %d: want a positive number of bytes per second", bodyMinRate)
			case maxJobs <= 0:
				return flagErr("--max-jobs %d: want at least 1", maxJobs)
			}
			for _, k := range keys {
				if strings.TrimSpace(k) == "" {
					return flagErr("--api-key: a key cannot be empty")
				}
			}
			cfg, err := config.Load(a.configFile)
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			if quiet {
				level = slog.LevelWarn
			}
			log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			server.TuneGC()
			srv, err := server.New(ctx, server.Config{
				DataDir: dataDir, DefaultCollection: collection, Config: cfg, Models: a.models, NoCache: a.noCache,
				APIKeys: keys, AllowPaths: allowPaths, CORSOrigins: corsOrigins, InsecureNoKey: insecure,
				MaxBody: maxBody, MaxUpload: maxUpload, SyncUpload: syncUpload,
				MaxInFlight: maxInFlight, BodyTimeout: bodyTimeout, BodyMinRate: bodyMinRate, MaxJobs: maxJobs,
				RequestTimeout: reqTimeout, ShutdownTimeout: stopTimeout, Log: log,
				Judge: judge, JudgePrompts: judgePrompt,
				MCPAllowWrites: mcpWrites, Version: version(), ReadOnly: readOnly,
			})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				srv.Close(ctx)
				return flagErr("--addr %s: %v", addr, err)
			}
			if !loopback(ln.Addr()) && len(keys) == 0 {
				if !insecure {
					ln.Close()
					srv.Close(ctx)
					return flagErr("--addr %s listens beyond this machine without an API key: anyone who can reach it could read and change the collections; give keys (--api-key-file FILE or DISTILL_API_KEYS), or --insecure-no-key to serve without", addr)
				}
				fmt.Fprintf(a.stderr, "distill: warning: serving on %s, beyond this machine, without API keys (--insecure-no-key): anyone who can reach it can read and change the collections\n", ln.Addr())
			}
			fmt.Fprintf(a.stderr, "distill: serving %s on http://%s (collections in %s)\n", collection, ln.Addr(), dataDir)
			return srv.Serve(ctx, ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (host:port)")
	f.StringVar(&dataDir, "data", "", "directory holding the collections (default: the directory of --db)")
	f.StringVar(&collection, "collection", "", "default collection (default: the last element of --db)")
	f.StringArrayVar(&keys, "api-key", nil, "API key clients must send as a bearer token (repeatable; visible to other users in ps: prefer --api-key-file or $DISTILL_API_KEYS)")
	f.StringVar(&keysFile, "api-key-file", "", "file with one API key per line (# comments); keys can also come from $DISTILL_API_KEYS (comma-separated)")
	f.StringVar(&keysFile, "api-keys-file", "", "same as --api-key-file")
	f.MarkHidden("api-keys-file")
	f.StringArrayVar(&corsOrigins, "cors-origin", nil, "origin (scheme://host[:port]) whose web pages may call the API, with CORS headers (repeatable; * for any)")
	f.BoolVar(&insecure, "insecure-no-key", false, "allow listening beyond loopback without an API key")
	f.StringArrayVar(&allowPaths, "allow-path", nil, "directory whose files clients may ingest by server path (repeatable)")
	f.Int64Var(&maxBody, "max-body", server.DefaultMaxBody, "largest JSON request body in bytes")
	f.Int64Var(&maxUpload, "max-upload", server.DefaultMaxUpload, "largest document upload in bytes")
	f.Int64Var(&syncUpload, "sync-upload", server.DefaultSyncUpload, "uploads up to this many bytes are ingested before the response; larger ones become jobs")
	f.Int64Var(&maxInFlight, "max-inflight", server.DefaultMaxInFlight, "bytes of JSON request bodies held in memory at once, and the largest JSON upload (multipart uploads stream to disk)")
	f.DurationVar(&bodyTimeout, "body-timeout", server.DefaultBodyTimeout, "time a request body has to arrive, plus a second per --body-min-rate bytes received")
	f.Int64Var(&bodyMinRate, "body-min-rate", server.DefaultBodyMinRate, "bytes per second a request body must keep up after --body-timeout")
	f.IntVar(&maxJobs, "max-jobs", server.DefaultMaxJobs, "ingestion jobs running at once (more are refused with 429), and uploads ingested within their request at once (more wait)")
	f.DurationVar(&reqTimeout, "request-timeout", server.DefaultRequestTimeout, "time limit of each request (uploads have their own)")
	f.DurationVar(&stopTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "on SIGINT or SIGTERM, how long to let running requests finish")
	f.StringVar(&judge, "judge", "", "LLM URI that rates answers when POST .../eval asks for it (judge=true)")
	f.StringVar(&judgePrompt, "judge-prompts", "", "YAML file replacing the judge's prompts (keys: statements, verdicts, questions)")
	f.BoolVar(&quiet, "quiet", false, "log only warnings and errors, not each request")
	f.BoolVar(&readOnly, "read-only", false, "open every collection read-only and refuse the requests that change them (403 read_only)")
	f.BoolVar(&mcpWrites, "mcp-allow-writes", false, "offer the MCP tools that change a collection (ingest_text, remove_document) at /mcp")
	return cmd
}

// readKeys reads one API key per line, skipping blanks and # comments.
func readKeys(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			keys = append(keys, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no keys", path)
	}
	return keys, nil
}

// loopback reports whether a listener only accepts connections from this
// machine.
func loopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// envAPIKeys reads DISTILL_API_KEYS: API keys separated by commas or white
// space, so that keys need not be on the command line, where ps shows them.
func envAPIKeys() []string {
	return strings.FieldsFunc(os.Getenv("DISTILL_API_KEYS"), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}
