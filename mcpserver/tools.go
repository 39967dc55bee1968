package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
)

// The argument structs are the tools' input schemas (inferred by the SDK
// from the json and jsonschema tags); fields with omitempty are optional.

// SearchArgs are the arguments of search.
type SearchArgs struct {
	Question  string   `json:"question" jsonschema:"what to look for: a question or keywords"`
	Technique string   `json:"technique,omitempty" jsonschema:"the retrieval technique, by name (see list_techniques); default parent"`
	K         int      `json:"k,omitempty" jsonschema:"return at most this many passages; default all the technique retrieves (its own depth is the most)"`
	Where     []string `json:"where,omitempty" jsonschema:"metadata filters, ANDed, applied before the top passages are chosen: KEY=VALUE, KEY!=VALUE, KEY>=N, KEY<=N, KEY>N, KEY<N (numbers or ISO dates) or KEY~GLOB, such as [\"year>=2021\", \"source~*/2021*\"]; keys: source (the path), doc_id, page, type (pdf, text, markdown, html), ingested (a date), or any metadata key of the documents"`
}

// AskArgs are the arguments of ask.
type AskArgs struct {
	Question  string   `json:"question" jsonschema:"the question to answer from the collection"`
	Technique string   `json:"technique,omitempty" jsonschema:"the technique, by name (see list_techniques); default parent"`
	Where     []string `json:"where,omitempty" jsonschema:"metadata filters, ANDed, applied before the top passages are chosen: KEY=VALUE, KEY!=VALUE, KEY>=N, KEY<=N, KEY>N, KEY<N (numbers or ISO dates) or KEY~GLOB, such as [\"year>=2021\", \"source~*/2021*\"]; keys: source (the path), doc_id, page, type (pdf, text, markdown, html), ingested (a date), or any metadata key of the documents"`
}

// ReadPageArgs are the arguments of read_page.
type ReadPageArgs struct {
	DocID string `json:"doc_id" jsonschema:"the document's id, as search, ask and list_documents give it"`
	Page  int    `json:"page" jsonschema:"the page number, from 1, as a passage's page gives it"`
}

// IngestTextArgs are the arguments of ingest_text.
type IngestTextArgs struct {
	Name string            `json:"name" jsonschema:"the document's file name, such as notes.md: .md is read as Markdown, .html as HTML, .txt or no extension as plain text; a document of the same name is replaced"`
	Text string            `json:"text" jsonschema:"the document's text"`
	Meta map[string]string `json:"meta,omitempty" jsonschema:"metadata fields to store with the document, such as {\"year\": \"2024\"}"`
}

// RemoveDocumentArgs are the arguments of remove_document.
type RemoveDocumentArgs struct {
	DocID string `json:"doc_id" jsonschema:"the id of the document to remove, as list_documents gives it"`
}

// noArgs is the input of the listing tools.
type noArgs struct{}

// Passage is a context: a passage of a document with where it comes from.
type Passage struct {
	Rank    int     `json:"rank" jsonschema:"1 for the best; [n] in an answer cites the passage of rank n"`
	Text    string  `json:"text"`
	Source  string  `json:"source" jsonschema:"the document's source: its file path or name"`
	Title   string  `json:"title,omitempty"`
	Page    int     `json:"page" jsonschema:"the page the passage is on"`
	Score   float64 `json:"score" jsonschema:"the technique's relevance score; higher is better, comparable only within one result"`
	DocID   string  `json:"doc_id"`
	ChunkID string  `json:"chunk_id"`
	Start   int     `json:"start" jsonschema:"byte offset of the passage in its page's text"`
	End     int     `json:"end" jsonschema:"byte offset of the end of the passage in its page's text"`
	URI     string  `json:"uri" jsonschema:"the page's resource URI (read it with read_page or resources/read)"`
}

// SearchResult is what search returns.
type SearchResult struct {
	Question  string    `json:"question"`
	Technique string    `json:"technique"`
	Contexts  []Passage `json:"contexts"`
}

// Citation is a passage an answer cites.
type Citation struct {
	Rank   int    `json:"rank" jsonschema:"the n of [n] in the answer"`
	Source string `json:"source"`
	Page   int    `json:"page"`
	DocID  string `json:"doc_id"`
	URI    string `json:"uri"`
}

// AskResult is what ask returns.
type AskResult struct {
	Question  string     `json:"question"`
	Technique string     `json:"technique"`
	Mode      string     `json:"mode" jsonschema:"llm when a language model wrote the answer, extractive when it is sentences of the passages"`
	Answer    string     `json:"answer" jsonschema:"the answer; [n] cites the context of rank n"`
	Citations []Citation `json:"citations" jsonschema:"the contexts the answer cites, in rank order"`
	Contexts  []Passage  `json:"contexts" jsonschema:"every passage the answer was built from"`
	Stats     Stats      `json:"stats" jsonschema:"what answering cost"`
}

// Stats is what an answer cost (distill ask --json has every stage).
type Stats struct {
	LLMCalls         int     `json:"llm_calls"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	LatencyMS        float64 `json:"latency_ms"`
}

// Document describes a document of the collection.
type Document struct {
	DocID    string            `json:"doc_id"`
	Source   string            `json:"source"`
	Title    string            `json:"title,omitempty"`
	Type     string            `json:"type" jsonschema:"the format it was read as: pdf, text, markdown, html, docx..."`
	Pages    int               `json:"pages"`
	Chunks   int               `json:"chunks"`
	Bytes    int64             `json:"bytes"`
	Ingested string            `json:"ingested" jsonschema:"when it was ingested (RFC 3339)"`
	Meta     map[string]string `json:"meta,omitempty"`
}

// DocumentList is what list_documents returns.
type DocumentList struct {
	Documents []Document `json:"documents"`
}

// Technique describes a technique.
type Technique struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Retriever   string   `json:"retriever"`
	Compressors []string `json:"compressors"`
	Available   bool     `json:"available" jsonschema:"whether it can run with the models configured"`
	Unavailable string   `json:"unavailable,omitempty" jsonschema:"why it cannot run, when it cannot"`
}

// TechniqueList is what list_techniques returns.
type TechniqueList struct {
	Default    string      `json:"default" jsonschema:"the technique search and ask use when none is named"`
	Techniques []Technique `json:"techniques"`
}

// Page is what read_page returns.
type Page struct {
	DocID  string `json:"doc_id"`
	Source string `json:"source"`
	Page   int    `json:"page"`
	Pages  int    `json:"pages" jsonschema:"how many pages the document has stored"`
	Text   string `json:"text"`
}

// Ingested is what ingest_text returns.
type Ingested struct {
	DocID  string `json:"doc_id"`
	Source string `json:"source"`
	Status string `json:"status" jsonschema:"added, updated (it replaced a document of the same name) or unchanged"`
	Pages  int    `json:"pages"`
	Chunks int    `json:"chunks"`
}

// Removed is what remove_document returns.
type Removed struct {
	Removed Document `json:"removed"`
}

// tools binds the tools to the engine the options give.
type tools struct{ opts Options }

func (t *tools) register(s *mcp.Server) {
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(false)}
	mcp.AddTool(s, &mcp.Tool{Name: "search", Title: "Search the documents", Annotations: readOnly, InputSchema: inputSchema[SearchArgs](),
		Description: "Find the passages of the collection's documents that bear on a question, best first, with the technique's retrieval and compression but no answer. Each passage has its text, source, page, score and ids; read_page gives the whole page."}, t.search)
	mcp.AddTool(s, &mcp.Tool{Name: "ask", Title: "Answer from the documents", Annotations: readOnly, InputSchema: inputSchema[AskArgs](),
		Description: "Answer a question from the collection's documents with a technique. The answer cites its passages as [n]; citations lists the cited ones and contexts every passage it was built from."}, t.ask)
	mcp.AddTool(s, &mcp.Tool{Name: "list_documents", Title: "List the documents", Annotations: readOnly,
		Description: "List the collection's documents: id, source, type, pages, chunks, size, when ingested and metadata."}, t.listDocuments)
	mcp.AddTool(s, &mcp.Tool{Name: "read_page", Title: "Read a page", Annotations: readOnly,
		Description: "Return the text of one page of a document, by document id and page number (as passages give them)."}, t.readPage)
	mcp.AddTool(s, &mcp.Tool{Name: "list_techniques", Title: "List the techniques", Annotations: readOnly,
		Description: "List the retrieval techniques search and ask can use, what each does, and whether it can run with the models configured."}, t.listTechniques)
	s.AddResourceTemplate(&mcp.ResourceTemplate{Name: "page", Title: "A page of a document", MIMEType: "text/plain",
		URITemplate: pageTemplate, Description: "The text of page {page} of the document {doc_id}."}, t.readPageResource)
	if !t.opts.AllowWrites {
		return
	}
	mcp.AddTool(s, &mcp.Tool{Name: "ingest_text", Title: "Add a text document",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)},
		Description: "Add a document given as text to the collection, under a file name whose extension says how to read it; a document of the same name is replaced. Returns its id."}, t.ingestText)
	mcp.AddTool(s, &mcp.Tool{Name: "remove_document", Title: "Remove a document",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)},
		Description: "Remove a document, with its pages and passages, from the collection by id."}, t.removeDocument)
}

func ptr[T any](v T) *T { return &v }

// inputSchema infers a tool's input schema as the SDK would, except that a
// list of strings is "array" rather than ["null", "array"]: an omitted list
// is already optional, and clients that read "type" as one string (the
// TypeScript SDK's typed helpers, several agents) choke on the pair.
func inputSchema[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[[]string](): {Type: "array", Items: &jsonschema.Schema{Type: "string"}},
	}})
	if err != nil {
		panic(fmt.Sprintf("mcpserver: input schema of %T: %v", *new(T), err))
	}
	return s
}

// pageTemplate is the URI template of page resources.
const pageTemplate = "distill://documents/{doc_id}/pages/{page}"

func pageURI(docID string, page int) string {
	return "distill://documents/" + url.PathEscape(docID) + "/pages/" + strconv.Itoa(page)
}

// withEngine runs fn with the collection's engine and turns its error into
// the CLI's plain message.
func withEngine[Out any](ctx context.Context, t *tools, fn func(*distill.Engine) (Out, error)) (*mcp.CallToolResult, Out, error) {
	var zero Out
	eng, release, err := t.opts.Acquire(ctx)
	if err != nil {
		return nil, zero, plain(err)
	}
	defer release()
	out, err := fn(eng)
	if err != nil {
		return nil, zero, plain(err)
	}
	return nil, out, nil
}

func (t *tools) technique(name string) string {
	if strings.TrimSpace(name) == "" {
		return t.opts.DefaultTechnique
	}
	return name
}

func (t *tools) search(ctx context.Context, _ *mcp.CallToolRequest, args SearchArgs) (*mcp.CallToolResult, SearchResult, error) {
	if args.K < 0 {
		return nil, SearchResult{}, argError("k", "want a positive number of passages, got %d", args.K)
	}
	where, err := distill.ParseWhere(args.Where)
	if err != nil {
		return nil, SearchResult{}, argError("where", "%v", err)
	}
	return withEngine(ctx, t, func(eng *distill.Engine) (SearchResult, error) {
		res, err := eng.Retrieve(ctx, args.Question, t.technique(args.Technique), distill.Where(where))
		if err != nil {
			return SearchResult{}, err
		}
		ctxs := res.Contexts
		if args.K > 0 && len(ctxs) > args.K {
			ctxs = ctxs[:args.K]
		}
		return SearchResult{Question: res.Question, Technique: res.Technique, Contexts: passages(ctxs)}, nil
	})
}

func (t *tools) ask(ctx context.Context, _ *mcp.CallToolRequest, args AskArgs) (*mcp.CallToolResult, AskResult, error) {
	where, err := distill.ParseWhere(args.Where)
	if err != nil {
		return nil, AskResult{}, argError("where", "%v", err)
	}
	return withEngine(ctx, t, func(eng *distill.Engine) (AskResult, error) {
		res, err := eng.Ask(ctx, args.Question, t.technique(args.Technique), distill.Where(where))
		if err != nil {
			return AskResult{}, err
		}
		out := AskResult{Question: res.Question, Technique: res.Technique, Mode: res.Mode, Answer: res.Answer,
			Citations: []Citation{}, Contexts: passages(res.Contexts),
			Stats: Stats{LLMCalls: res.Stats.LLMCalls, PromptTokens: res.Stats.PromptTokens,
				CompletionTokens: res.Stats.CompletionTokens, LatencyMS: res.Stats.LatencyMS}}
		for _, n := range res.Cited() {
			c := res.Contexts[n-1]
			out.Citations = append(out.Citations, Citation{Rank: n, Source: c.Source, Page: c.Page, DocID: c.DocID, URI: pageURI(c.DocID, c.Page)})
		}
		return out, nil
	})
}

func passages(ctxs []distill.Context) []Passage {
	out := make([]Passage, 0, len(ctxs))
	for _, c := range ctxs {
		out = append(out, Passage{Rank: c.Rank, Text: c.Text, Source: c.Source, Title: c.Title, Page: c.Page, Score: c.Score,
			DocID: c.DocID, ChunkID: c.ChunkID, Start: c.Start, End: c.End, URI: pageURI(c.DocID, c.Page)})
	}
	return out
}

func document(d store.DocumentInfo) Document {
	out := Document{DocID: d.ID, Source: d.Source, Title: d.Title, Type: d.Type, Pages: d.Pages, Chunks: d.Chunks,
		Bytes: d.Size, Meta: d.Meta}
	if !d.Ingested.IsZero() {
		out.Ingested = d.Ingested.UTC().Format(time.RFC3339)
	}
	return out
}

func (t *tools) listDocuments(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, DocumentList, error) {
	return withEngine(ctx, t, func(eng *distill.Engine) (DocumentList, error) {
		docs, err := eng.Documents(ctx)
		if err != nil {
			return DocumentList{}, err
		}
		out := DocumentList{Documents: make([]Document, 0, len(docs))}
		for _, d := range docs {
			out.Documents = append(out.Documents, document(d))
		}
		return out, nil
	})
}

func (t *tools) listTechniques(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, TechniqueList, error) {
	return withEngine(ctx, t, func(eng *distill.Engine) (TechniqueList, error) {
		out := TechniqueList{Default: t.opts.DefaultTechnique, Techniques: []Technique{}}
		for _, ti := range eng.Techniques() {
			out.Techniques = append(out.Techniques, Technique{Name: ti.Name, Description: ti.Description, Retriever: ti.Retriever,
				Compressors: ti.Compressors, Available: ti.Unavailable == "", Unavailable: ti.Unavailable})
		}
		return out, nil
	})
}

func (t *tools) readPage(ctx context.Context, _ *mcp.CallToolRequest, args ReadPageArgs) (*mcp.CallToolResult, Page, error) {
	if strings.TrimSpace(args.DocID) == "" {
		return nil, Page{}, argError("doc_id", "give the id of a document (see list_documents)")
	}
	return withEngine(ctx, t, func(eng *distill.Engine) (Page, error) {
		p, err := eng.Page(ctx, args.DocID, args.Page)
		if err != nil {
			return Page{}, err
		}
		return Page{DocID: p.DocID, Source: p.Source, Page: p.Page, Pages: p.Pages, Text: p.Text}, nil
	})
}

// readPageResource serves distill://documents/{doc_id}/pages/{page}.
func (t *tools) readPageResource(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	docID, page, ok := parsePageURI(uri)
	if !ok {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	eng, release, err := t.opts.Acquire(ctx)
	if err != nil {
		return nil, plain(err)
	}
	defer release()
	p, err := eng.Page(ctx, docID, page)
	if err != nil {
		var nd *distill.NoDocumentError
		var np *distill.NoPageError
		if errors.As(err, &nd) || errors.As(err, &np) {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		return nil, plain(err)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: p.Text}}}, nil
}

// parsePageURI splits distill://documents/ID/pages/N.
func parsePageURI(uri string) (docID string, page int, ok bool) {
	rest, ok := strings.CutPrefix(uri, "distill://documents/")
	if !ok {
		return "", 0, false
	}
	id, n, ok := strings.Cut(rest, "/pages/")
	if !ok {
		return "", 0, false
	}
	docID, err := url.PathUnescape(id)
	if err != nil || docID == "" {
		return "", 0, false
	}
	page, err = strconv.Atoi(n)
	if err != nil || page < 1 {
		return "", 0, false
	}
	return docID, page, true
}

func (t *tools) ingestText(ctx context.Context, _ *mcp.CallToolRequest, args IngestTextArgs) (*mcp.CallToolResult, Ingested, error) {
	if len(args.Text) > MaxTextBytes {
		return nil, Ingested{}, argError("text", "%d bytes is more than ingest_text takes (%d); ingest large files with distill ingest", len(args.Text), MaxTextBytes)
	}
	for k := range args.Meta {
		switch {
		case strings.TrimSpace(k) == "":
			return nil, Ingested{}, argError("meta", "a key cannot be empty")
		case k == "pages":
			return nil, Ingested{}, argError("meta", "the key pages is reserved (it records a page range)")
		}
	}
	return withEngine(ctx, t, func(eng *distill.Engine) (Ingested, error) {
		res, err := eng.IngestText(ctx, args.Name, args.Text, ingest.Options{Meta: args.Meta})
		if err != nil {
			return Ingested{}, err
		}
		return Ingested{DocID: res.DocID, Source: res.Source, Status: string(res.Status), Pages: res.Pages, Chunks: res.Chunks}, nil
	})
}

func (t *tools) removeDocument(ctx context.Context, _ *mcp.CallToolRequest, args RemoveDocumentArgs) (*mcp.CallToolResult, Removed, error) {
	return withEngine(ctx, t, func(eng *distill.Engine) (Removed, error) {
		d, err := eng.Document(ctx, args.DocID)
		if err != nil {
			return Removed{}, err
		}
		gone, err := eng.Remove(ctx, d.ID)
		if err != nil {
			return Removed{}, err
		}
		if len(gone) == 0 { // removed meanwhile
			return Removed{}, &distill.NoDocumentError{DocID: d.ID}
		}
		return Removed{Removed: document(gone[0])}, nil
	})
}
