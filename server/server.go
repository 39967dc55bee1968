// Package server is distill's HTTP API: collections, documents and
// ingestion jobs, ask (with server-sent events) and compare, an
// OpenAI-compatible chat endpoint whose models are the techniques, an
// OpenAPI document, health and Prometheus metrics, and a web page to
// compare techniques side by side. Handlers parse, call the distill
// Engine and write JSON; the retrieval logic lives in the engine.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/eval"
	"github.com/distill-rag/distill/store"
)

// Config is how a server runs. Zero fields take the defaults below.
type Config struct {
	// DataDir holds the collections, one directory each (DataDir/NAME).
	DataDir string
	// DefaultCollection is the collection the OpenAI routes and the web
	// page use when none is named; it is created when missing.
	DefaultCollection string
	// Engine configuration and models, shared by every collection.
	Config *config.Config
	Models distill.Models
	// NoCache and CacheDir are the engine's LLM cache options.
	NoCache  bool
	CacheDir string
	// APIKeys, when any, are required as bearer tokens on every route but
	// the health checks and the web page's static shell.
	APIKeys []string
	// CORSOrigins are the origins (scheme://host[:port], or "*") whose web
	// pages may call the API; requests with another Origin than the
	// server's own are refused.
	CORSOrigins []string
	// InsecureNoKey says the server was told to listen beyond loopback
	// without API keys; it then answers Host headers that are IP addresses
	// too (names other than localhost stay refused).
	InsecureNoKey bool
	// ReadOnly opens every collection read-only and refuses the routes
	// that change them (403 read_only).
	ReadOnly bool
	// MaxBody limits JSON request bodies; MaxUpload limits document uploads.
	MaxBody   int64
	MaxUpload int64
	// MaxInFlight bounds the bytes of request bodies held in memory at
	// once (JSON bodies, decoded whole; multipart uploads stream to disk and
	// do not count). It is also the largest JSON upload.
	MaxInFlight int64
	// BodyTimeout and BodyMinRate cut off request bodies that arrive too
	// slowly: a body gets BodyTimeout, plus a second per BodyMinRate bytes
	// received.
	BodyTimeout time.Duration
	BodyMinRate int64
	// MaxJobs bounds the ingestion jobs running at once (more are refused
	// with 429) and, separately, the uploads ingested within their request
	// at once (more wait for a turn).
	MaxJobs int
	// SyncUpload is the upload size up to which POST documents ingests
	// before answering; larger uploads become a job to poll (?async
	// overrides).
	SyncUpload int64
	// RequestTimeout bounds each request but uploads; UploadTimeout bounds
	// receiving an upload (ingestion jobs run on after it).
	RequestTimeout time.Duration
	UploadTimeout  time.Duration
	// ShutdownTimeout is how long Serve waits for running requests and
	// ingestion jobs when it stops.
	ShutdownTimeout time.Duration
	// AllowPaths are directories on the server whose files clients may ask
	// to ingest by path. Empty: clients can only upload.
	AllowPaths []string
	// Judge, when set, is the LLM URI that rates answers when an eval
	// request asks for it (judge=true); JudgePrompts replaces its prompts.
	Judge        string
	JudgePrompts string
	// Log receives request and error logs; nil discards them.
	Log *slog.Logger
	// MCPAllowWrites offers the MCP tools that change a collection at /mcp
	// (the JSON API writes either way); Version is what MCP clients see.
	MCPAllowWrites bool
	Version        string
}

// Defaults for Config.
const (
	DefaultMaxBody         = 1 << 20   // 1 MiB
	DefaultMaxUpload       = 256 << 20 // 256 MiB
	DefaultSyncUpload      = 4 << 20   // 4 MiB
	DefaultMaxInFlight     = 64 << 20  // 64 MiB
	DefaultBodyTimeout     = 20 * time.Second
	DefaultBodyMinRate     = 500 // bytes per second, as Apache's mod_reqtimeout
	DefaultMaxJobs         = 4
	DefaultRequestTimeout  = 2 * time.Minute
	DefaultUploadTimeout   = 15 * time.Minute
	DefaultShutdownTimeout = 30 * time.Second
)

// Server serves one data directory of collections.
type Server struct {
	cfg      Config
	log      *slog.Logger
	cols     *collections
	jobs     *jobs
	judge    *eval.Judge // nil without Config.Judge
	metrics  *metrics
	keys     [][32]byte
	inflight *budget // bytes of request bodies in memory
	ingests  slots   // ingests running within requests
	handler  http.Handler
	routes   []route
	started  time.Time
	stopping atomic.Bool

	// base is the context of work that outlives a request (ingestion jobs).
	base   context.Context
	cancel context.CancelFunc
	once   sync.Once
}

// New prepares a server: it checks the configuration, makes the data
// directory and opens (creating it when missing) the default collection.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: no data directory")
	}
	if cfg.DefaultCollection == "" {
		cfg.DefaultCollection = "default"
	}
	if err := checkName(cfg.DefaultCollection); err != nil {
		return nil, fmt.Errorf("default collection: %w", err)
	}
	setDefault(&cfg.MaxBody, DefaultMaxBody)
	setDefault(&cfg.MaxUpload, DefaultMaxUpload)
	setDefault(&cfg.SyncUpload, DefaultSyncUpload)
	setDefault(&cfg.MaxInFlight, DefaultMaxInFlight)
	setDefault(&cfg.BodyTimeout, DefaultBodyTimeout)
	setDefault(&cfg.BodyMinRate, DefaultBodyMinRate)
	setDefault(&cfg.MaxJobs, DefaultMaxJobs)
	setDefault(&cfg.RequestTimeout, DefaultRequestTimeout)
	setDefault(&cfg.UploadTimeout, DefaultUploadTimeout)
	setDefault(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	if cfg.Config == nil {
		c, err := config.Load("")
		if err != nil {
			return nil, err
		}
		cfg.Config = c
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for i, p := range cfg.AllowPaths {
		abs, err := filepath.Abs(p)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return nil, fmt.Errorf("allowed path %s: %w", p, err)
		}
		cfg.AllowPaths[i] = abs
	}
	if cfg.ReadOnly {
		if cfg.MCPAllowWrites {
			return nil, errors.New("a read-only server offers no MCP tools that write: drop one of the two settings")
		}
	} else if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Log, started: time.Now(), metrics: newMetrics()}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.inflight = &budget{max: cfg.MaxInFlight}
	s.ingests = make(slots, cfg.MaxJobs)
	for _, k := range cfg.APIKeys {
		s.keys = append(s.keys, hashKey(k))
	}
	s.cols = &collections{dir: cfg.DataDir, byName: map[string]*collection{}, removing: map[string]bool{}, open: s.openEngine}
	s.jobs = newJobs()
	if cfg.Judge != "" {
		embed := cfg.Models.Embed
		if embed == "" {
			embed = os.Getenv("DISTILL_EMBED")
		}
		j, err := eval.OpenJudge(ctx, cfg.Judge, embed, cfg.JudgePrompts)
		if err != nil {
			return nil, fmt.Errorf("judge: %w", err)
		}
		s.judge = j
	}
	if !s.cols.exists(cfg.DefaultCollection) {
		if cfg.ReadOnly {
			return nil, &store.CollectionError{Path: filepath.Join(cfg.DataDir, cfg.DefaultCollection), Reason: "does not exist, and a read-only server creates nothing"}
		}
		if err := s.cols.create(ctx, cfg.DefaultCollection); err != nil {
			return nil, err
		}
	}
	c, release, err := s.cols.acquire(ctx, cfg.DefaultCollection)
	if err != nil {
		return nil, err
	}
	for _, w := range c.eng.Warnings() {
		s.log.Warn(w, "collection", cfg.DefaultCollection)
	}
	release()
	s.routes = s.routeTable()
	s.handler = s.buildHandler()
	return s, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (s *Server) openEngine(ctx context.Context, dir string, create bool) (*distill.Engine, error) {
	return distill.Open(ctx, distill.Options{DB: dir, Create: create && !s.cfg.ReadOnly, Config: s.cfg.Config, Models: s.cfg.Models,
		NoCache: s.cfg.NoCache, CacheDir: s.cfg.CacheDir, ReadOnly: s.cfg.ReadOnly})
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until ctx is done, then shuts down
// gracefully: it stops accepting connections, lets running requests and
// ingestion jobs finish (up to ShutdownTimeout) and closes the collections.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	s.log.Info("shutting down: finishing running requests", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if cerr := s.Close(sctx); err == nil {
		err = cerr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: requests still running after %s were cut off", s.cfg.ShutdownTimeout)
	}
	return err
}

// Close waits for ingestion jobs (until ctx is done, then cancels them)
// and closes every collection. Requests must be over.
func (s *Server) Close(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		s.stopping.Store(true)
		err = s.jobs.wait(ctx)
		s.cancel()
		s.jobs.wait(context.Background())
		s.cols.closeAll()
	})
	return err
}
