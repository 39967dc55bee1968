// Package mcpserver serves a collection to agents over the Model Context
// Protocol (the official Go SDK): tools to search, ask, list documents and
// techniques and read pages, a resource template for pages, and, only when
// writes are allowed, tools to add and remove documents. It parses tool
// arguments and prints results; the engine (package distill) does the work.
package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/distill-rag/distill"
)

// Acquirer returns the engine of the collection to serve and a function to
// call when done with it (the HTTP server counts references so that
// deleting a collection waits for its requests).
type Acquirer func(ctx context.Context) (*distill.Engine, func(), error)

// Options say what a server serves.
type Options struct {
	// Acquire returns the collection's engine for each call.
	Acquire Acquirer
	// AllowWrites adds the tools that change the collection (ingest_text,
	// remove_document); without it no tool can write.
	AllowWrites bool
	// Version is the server's version, as clients see it.
	Version string
	// DefaultTechnique is the technique of search and ask when the call
	// names none; empty means DefaultTechnique.
	DefaultTechnique string
}

// DefaultTechnique is the CLI's default technique.
const DefaultTechnique = "parent"

// MaxTextBytes bounds the text ingest_text takes in one call.
const MaxTextBytes = 8 << 20

// instructions tell an agent how the tools fit together.
const instructions = `distill answers questions from one collection of documents (PDF, text, Markdown, HTML, Office files).
Use search to find passages (each with its source, page, score and ids), ask for an answer that cites passages as [n], read_page to read a whole page around a passage, list_documents to see what the collection holds and list_techniques for the retrieval techniques (search and ask take one by name).`

// New returns an MCP server with distill's tools.
func New(opts Options) *mcp.Server {
	if opts.DefaultTechnique == "" {
		opts.DefaultTechnique = DefaultTechnique
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "distill", Title: "distill", Version: opts.Version},
		&mcp.ServerOptions{Instructions: instructions})
	t := &tools{opts: opts}
	t.register(s)
	return s
}

// NewHTTPHandler returns the streamable HTTP transport. optionsFor says
// what each request is served: a key naming the collection (one server is
// built per key, on first use) and its options. The transport is
// stateless, with JSON responses: each POST is a whole exchange, so a
// request timeout or a restart never strands a session; GET streams are
// not offered (the tools send no notifications).
func NewHTTPHandler(optionsFor func(*http.Request) (key string, opts Options)) http.Handler {
	var mu sync.Mutex
	servers := map[string]*mcp.Server{}
	serverFor := func(r *http.Request) *mcp.Server {
		key, opts := optionsFor(r)
		mu.Lock()
		defer mu.Unlock()
		s, ok := servers[key]
		if !ok {
			s = New(opts)
			servers[key] = s
		}
		return s
	}
	return mcp.NewStreamableHTTPHandler(serverFor, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
}

// userError is a mistake in what the caller asked for; its message says
// it all (the CLI prints these alone too).
type userError interface {
	error
	UserError()
}

// plain is the message the CLI would print for err, without the prefixes
// of the layers it crossed, as a tool error.
func plain(err error) error {
	var ue userError
	if errors.As(err, &ue) {
		return errors.New(ue.Error())
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return err
}

// argError is a bad tool argument, named as the schema names it.
func argError(name, format string, args ...any) error {
	return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
}

// ServeIO serves one session over r and w (a process's stdin and stdout:
// the stdio transport) until the client closes r or ctx is done.
func ServeIO(ctx context.Context, opts Options, r io.Reader, w io.Writer) error {
	err := New(opts).Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(r), Writer: nopCloser{w}})
	if errors.Is(err, io.EOF) || ctx.Err() != nil {
		return nil // the client hung up, or the process was told to stop
	}
	return err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
