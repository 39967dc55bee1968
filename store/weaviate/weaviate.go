// Package weaviate keeps a distill collection in Weaviate, a distributed
// vector database, through its official Go client: chunks with their
// vectors, pages, document records and the collection's own record live in
// three Weaviate collections (classes) named after the distill collection.
// Dense, BM25 and hybrid search run inside Weaviate.
//
// A document is written under a fresh generation id: its pages and chunks
// go in first, invisible, and the document record naming that generation is
// written last, in one object write. Readers keep only chunks whose
// generation is the one their document record names, so nobody ever sees a
// half-written or half-deleted document; superseded generations are deleted
// afterwards, and whatever a crash leaves behind is reported (and removed)
// by Check.
package weaviate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/auth"
	wgrpc "github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"

	"github.com/distill-rag/distill/store"
)

func init() { store.Register("weaviate", Open) }

// Environment variables read when the URI does not say.
const (
	EnvAPIKey = "DISTILL_WEAVIATE_API_KEY"
	EnvGRPC   = "DISTILL_WEAVIATE_GRPC"
)

// Defaults of the URI options.
const (
	DefaultCollection  = "Distill"
	DefaultGRPCPort    = 50051
	DefaultTimeout     = 30 * time.Second
	DefaultBatchSize   = 200
	DefaultConsistency = "QUORUM"
)

// Config is a parsed weaviate: URI.
type Config struct {
	// URL is Weaviate's REST endpoint, http(s)://host:port.
	URL *url.URL
	// GRPC is the gRPC endpoint, host:port.
	GRPC string
	// Nodes are every node the URI names, the first being URL and GRPC:
	// requests go to one, and move to the next when it cannot be reached.
	Nodes []Node
	// Collection names the distill collection; its Weaviate classes are
	// Collection+"Chunk", +"Page" and +"Document".
	Collection string
	APIKey     string
	// Timeout bounds each request to Weaviate.
	Timeout time.Duration
	// Batch is how many objects go to Weaviate in one batch request.
	Batch int
	// Replicas and Shards shape new classes; 0 leaves Weaviate's default.
	Replicas, Shards int
	// Consistency is the replica consistency of reads and writes: ONE,
	// QUORUM or ALL.
	Consistency string
	// Retries is how many times a failed idempotent request is repeated.
	Retries int
}

// Node is one Weaviate node's endpoints.
type Node struct {
	URL  *url.URL
	GRPC string
}

// URIError reports a weaviate: URI that cannot be used.
type URIError struct {
	URI    string
	Reason string
}

func (e *URIError) Error() string {
	return fmt.Sprintf("store %q: %s (want weaviate:http://HOST:PORT?collection=NAME&grpc=HOST:PORT)", e.URI, e.Reason)
}

// UserError marks the error as the user's to fix.
func (e *URIError) UserError() {}

// ParseURI reads "weaviate:http://HOST:PORT?opt=value&...". Options:
// collection, grpc (port or host:port; default the REST host and port
// 50051, or $DISTILL_WEAVIATE_GRPC), api_key (better:
// $DISTILL_WEAVIATE_API_KEY), timeout, batch, replicas, shards,
// consistency, retries.
func ParseURI(raw string) (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, &URIError{URI: redact(raw), Reason: redact(fmt.Sprintf(format, args...))}
	}
	rest, ok := strings.CutPrefix(raw, "weaviate:")
	if !ok {
		return bad("not a weaviate: URI")
	}
	scheme, after, ok := strings.Cut(rest, "://")
	if !ok || scheme != "http" && scheme != "https" {
		return bad("the address must start with http:// or https://")
	}
	// Several nodes: http://h1:8080,h2:8080?grpc=50051,50051
	hostEnd := strings.IndexAny(after, "/?")
	if hostEnd < 0 {
		hostEnd = len(after)
	}
	hosts := strings.Split(after[:hostEnd], ",")
	u, err := url.Parse(scheme + "://" + hosts[0] + after[hostEnd:])
	if err != nil {
		return bad("%s", redact(err.Error()))
	}
	if u.Host == "" {
		return bad("no host")
	}
	if u.Path != "" && u.Path != "/" {
		return bad("unexpected path %q; name the collection with ?collection=NAME", u.Path)
	}
	c := Config{
		Collection:  DefaultCollection,
		Timeout:     DefaultTimeout,
		Batch:       DefaultBatchSize,
		Consistency: DefaultConsistency,
		Retries:     4,
		APIKey:      os.Getenv(EnvAPIKey),
		GRPC:        os.Getenv(EnvGRPC),
	}
	q := u.Query()
	for key, vals := range q {
		v := vals[len(vals)-1]
		var err error
		switch key {
		case "collection":
			c.Collection = v
		case "grpc":
			c.GRPC = v
		case "api_key":
			c.APIKey = v
		case "timeout":
			c.Timeout, err = time.ParseDuration(v)
			if err == nil && c.Timeout <= 0 {
				err = errors.New("must be positive")
			}
		case "batch":
			c.Batch, err = positive(v)
		case "replicas":
			c.Replicas, err = positive(v)
		case "shards":
			c.Shards, err = positive(v)
		case "retries":
			c.Retries, err = strconv.Atoi(v)
			if err == nil && c.Retries < 0 {
				err = errors.New("must be 0 or more")
			}
		case "consistency":
			c.Consistency = strings.ToUpper(v)
			if c.Consistency != "ONE" && c.Consistency != "QUORUM" && c.Consistency != "ALL" {
				err = errors.New("must be ONE, QUORUM or ALL")
			}
		default:
			return bad("unknown option %q (known: api_key, batch, collection, consistency, grpc, replicas, retries, shards, timeout)", key)
		}
		if err != nil {
			return bad("option %s=%s: %v", key, v, err)
		}
	}
	if !validClassPrefix(c.Collection) {
		return bad("collection %q must start with a letter and hold only letters, digits and '_'", c.Collection)
	}
	c.Collection = strings.ToUpper(c.Collection[:1]) + c.Collection[1:]
	grpcs := strings.Split(c.GRPC, ",")
	if c.GRPC != "" && len(grpcs) != 1 && len(grpcs) != len(hosts) {
		return bad("grpc=%s: give one gRPC port for all nodes or one per node (%d)", c.GRPC, len(hosts))
	}
	for i, h := range hosts {
		nu, err := url.Parse(scheme + "://" + h)
		if err != nil || nu.Host == "" || nu.Path != "" {
			return bad("bad node address %q", h)
		}
		if nu.Port() == "" {
			nu.Host = net.JoinHostPort(nu.Hostname(), map[string]string{"http": "8080", "https": "443"}[scheme])
		}
		g := grpcs[min(i, len(grpcs)-1)]
		switch {
		case g == "":
			g = net.JoinHostPort(nu.Hostname(), strconv.Itoa(DefaultGRPCPort))
		case !strings.Contains(g, ":"):
			if _, err := positive(g); err != nil {
				return bad("grpc=%s: want a port or host:port", c.GRPC)
			}
			g = net.JoinHostPort(nu.Hostname(), g)
		case len(hosts) > 1 && len(grpcs) == 1:
			return bad("grpc=%s: with several nodes give a port, or one host:port per node", c.GRPC)
		}
		c.Nodes = append(c.Nodes, Node{URL: nu, GRPC: g})
	}
	c.URL, c.GRPC = c.Nodes[0].URL, c.Nodes[0].GRPC
	return c, nil
}

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New("not a number")
	}
	if n <= 0 {
		return 0, errors.New("must be positive")
	}
	return n, nil
}

func validClassPrefix(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !(letter || i > 0 && (r == '_' || r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// redact hides every api_key option in a URI shown in errors.
func redact(raw string) string {
	var b strings.Builder
	for {
		i := strings.Index(raw, "api_key=")
		if i < 0 {
			b.WriteString(raw)
			return b.String()
		}
		b.WriteString(raw[:i] + "api_key=REDACTED")
		raw = raw[i+len("api_key="):]
		if j := strings.IndexByte(raw, '&'); j >= 0 {
			raw = raw[j:]
		} else {
			raw = ""
		}
	}
}

// String names the store in errors and listings: its address and collection.
func (c Config) String() string {
	hosts := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		hosts[i] = n.URL.Host
	}
	if len(hosts) == 0 && c.URL != nil {
		hosts = []string{c.URL.Host}
	}
	scheme := "http"
	if c.URL != nil {
		scheme = c.URL.Scheme
	}
	return fmt.Sprintf("weaviate:%s://%s?collection=%s", scheme, strings.Join(hosts, ","), c.Collection)
}

// Store is a distill collection kept in Weaviate.
type Store struct {
	cfg     Config
	clients []*weaviate.Client // one per node
	current atomic.Int64       // index of the client in use
	names   classNames

	// blockMax says Weaviate ranks BM25 in the chunk class with BlockMax
	// WAND (see docs/weaviate.md).
	blockMax bool

	mu   sync.Mutex // guards meta
	meta collectionMeta
}

var (
	_ store.VectorStore  = (*Store)(nil)
	_ store.Exporter     = (*Store)(nil)
	_ store.VectorWriter = (*Store)(nil)
)

// Open opens the collection a weaviate: URI names, creating its classes
// when opts.Create is set and they do not exist.
func Open(ctx context.Context, uri string, opts store.Options) (store.Store, error) {
	cfg, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg, opts)
}

// OpenConfig is Open with a parsed configuration, returning the concrete type.
func OpenConfig(ctx context.Context, cfg Config, opts store.Options) (*Store, error) {
	if len(cfg.Nodes) == 0 {
		cfg.Nodes = []Node{{URL: cfg.URL, GRPC: cfg.GRPC}}
	}
	s := &Store{cfg: cfg, names: namesFor(cfg.Collection)}
	for _, n := range cfg.Nodes {
		wc := weaviate.Config{
			Host:       n.URL.Host,
			Scheme:     n.URL.Scheme,
			Timeout:    cfg.Timeout,
			GrpcConfig: &wgrpc.Config{Host: n.GRPC, Secured: n.URL.Scheme == "https"},
		}
		if cfg.APIKey != "" {
			wc.AuthConfig = auth.ApiKey{Value: cfg.APIKey}
		}
		client, err := weaviate.NewClient(wc)
		if err != nil {
			return nil, &Error{Store: cfg.String(), Op: "connect to " + n.URL.Host, Err: err}
		}
		s.clients = append(s.clients, client)
	}
	if err := s.open(ctx, opts); err != nil {
		return nil, err
	}
	return s, nil
}

// String names the store: its address and collection, never its key.
func (s *Store) String() string { return s.cfg.String() }

// Config returns the store's configuration.
func (s *Store) Config() Config { return s.cfg }

// Client returns the Weaviate client in use, for tools and tests.
func (s *Store) Client() *weaviate.Client { return s.clients[s.current.Load()%int64(len(s.clients))] }

// failover moves to the next node after the one that failed, unless another
// request moved already.
func (s *Store) failover(failed *weaviate.Client) {
	i := s.current.Load()
	if len(s.clients) > 1 && s.clients[i%int64(len(s.clients))] == failed {
		s.current.CompareAndSwap(i, i+1)
	}
}

// Classes returns the Weaviate classes that hold the collection: chunks,
// pages and documents.
func (s *Store) Classes() (chunk, page, doc string) {
	return s.names.chunk, s.names.page, s.names.doc
}

// Close releases the store. weaviate-go-client v5 has no way to close its
// gRPC connection, so one idle connection per opened store stays until the
// process exits; nothing is left unwritten, as every write is synchronous.
func (s *Store) Close() error { return nil }

// Splits returns the collection's splits.
func (s *Store) Splits(context.Context) ([]store.Split, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Split(nil), s.meta.Splits...), nil
}

func (s *Store) split(name string) (store.Split, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sp := range s.meta.Splits {
		if sp.Name == name {
			return sp, true
		}
	}
	return store.Split{}, false
}

// UnknownSplitError names a split the collection does not have.
type UnknownSplitError struct {
	Store string
	Split string
	Known []string
}

func (e *UnknownSplitError) Error() string {
	return fmt.Sprintf("%s: the collection has no split %q (it has: %s)", e.Store, e.Split, strings.Join(e.Known, ", "))
}

func (s *Store) unknownSplit(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var known []string
	for _, sp := range s.meta.Splits {
		known = append(known, sp.Name)
	}
	return &UnknownSplitError{Store: s.cfg.String(), Split: name, Known: known}
}

// Destroy deletes the collection's classes (its chunks, pages, documents
// and the collection's own record) from Weaviate.
func (s *Store) Destroy(ctx context.Context) error {
	for _, class := range []string{s.names.chunk, s.names.page, s.names.doc} {
		err := s.retry(ctx, "delete class "+class, func(ctx context.Context) error {
			return s.Client().Schema().ClassDeleter().WithClassName(class).Do(ctx)
		})
		if err != nil {
			return fmt.Errorf("%s: destroy: %w", s, err)
		}
	}
	return nil
}
