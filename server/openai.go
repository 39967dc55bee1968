package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/store"
)

// chatRequest is the part of OpenAI's chat completion request distill
// uses. Other fields (temperature, max_tokens, tools, ...) are accepted
// and ignored: the technique's configuration decides how to answer.
type chatRequest struct {
	Model         string        `json:"model"`
	Messages      []chatMessage `json:"messages"`
	Stream        bool          `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	N *int `json:"n"`
	// Collection is a distill extension: the collection to answer from
	// when the model id does not name one.
	Collection string `json:"collection"`
	// Metadata is OpenAI's request metadata; distill reads its "where"
	// key (see chatWhere) and ignores the others.
	Metadata map[string]json.RawMessage `json:"metadata"`
}

// chatWhere reads metadata.where: an array of filter expressions, as
// sent with an SDK's extra body (openai-go's option.WithJSONSet
// ("metadata.where", ...), the Python SDK's extra_body), or a string, as
// OpenAI's typed metadata (string values) allows: one expression, or a
// JSON array of them.
func chatWhere(req *chatRequest) (*store.Filter, error) {
	raw, ok := req.Metadata["where"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	bad := func() error {
		ae := badRequest(`metadata.where: want an array of filter expressions such as ["year>=2021", "source~*/2021*"], or one expression as a string`)
		ae.Param, ae.Code = "metadata.where", "invalid_filter"
		return ae
	}
	var exprs []string
	if err := json.Unmarshal(raw, &exprs); err != nil {
		var one string
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, bad()
		}
		if strings.HasPrefix(strings.TrimSpace(one), "[") {
			if err := json.Unmarshal([]byte(one), &exprs); err != nil {
				return nil, bad()
			}
		} else if strings.TrimSpace(one) != "" {
			exprs = []string{one}
		}
	}
	f, err := distill.ParseWhere(exprs)
	if err != nil {
		ae := classify(err)
		ae.Param = "metadata.where"
		return nil, ae
	}
	return f, nil
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text returns a message's content: a string, or the text parts of an
// array of content parts.
func (m chatMessage) text(i int) (string, error) {
	raw := strings.TrimSpace(string(m.Content))
	if raw == "" || raw == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(m.Content, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		ae := badRequest("messages[%d].content: want a string or an array of content parts", i)
		ae.Param = fmt.Sprintf("messages[%d].content", i)
		return "", ae
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

// chatCompletion is OpenAI's response, with "sources": the contexts the
// answer cites, as the JSON API returns them.
type chatCompletion struct {
	ID      string            `json:"id"`
	Object  string            `json:"object"`
	Created int64             `json:"created"`
	Model   string            `json:"model"`
	Choices []chatChoice      `json:"choices"`
	Usage   *chatUsage        `json:"usage,omitempty"`
	Sources []distill.Context `json:"sources,omitempty"`
}

type chatChoice struct {
	Index        int       `json:"index"`
	Message      *chatOut  `json:"message,omitempty"`
	Delta        *chatOut  `json:"delta,omitempty"`
	FinishReason *string   `json:"finish_reason"`
	Logprobs     *struct{} `json:"logprobs"`
}

type chatOut struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
	Refusal *string `json:"refusal,omitempty"`
}

type chatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func usageOf(res *distill.Result) *chatUsage {
	return &chatUsage{PromptTokens: res.Stats.PromptTokens, CompletionTokens: res.Stats.CompletionTokens,
		TotalTokens: res.Stats.PromptTokens + res.Stats.CompletionTokens}
}

// resolveModel maps a model id to a collection and a technique: "parent"
// is the default collection's technique, "letters/parent" another's.
func (s *Server) resolveModel(req *chatRequest) (collection, technique string, err error) {
	technique = req.Model
	collection = req.Collection
	if c, t, ok := strings.Cut(req.Model, "/"); ok {
		collection, technique = c, t
	}
	if collection == "" {
		collection = s.cfg.DefaultCollection
	}
	if technique == "" {
		ae := badRequest("model is required: a technique such as %q (see GET /v1/models)", defaultTechnique)
		ae.Param = "model"
		return "", "", ae
	}
	return collection, technique, nil
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := decodeJSON(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.N != nil && *req.N != 1 {
		ae := badRequest("n=%d: distill returns one choice", *req.N)
		ae.Param = "n"
		s.writeError(w, r, ae)
		return
	}
	var turns []model.Message
	for i, m := range req.Messages {
		text, err := m.text(i)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		turns = append(turns, model.Message{Role: m.Role, Content: text})
	}
	collName, tech, err := s.resolveModel(&req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	where, err := chatWhere(&req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, release, err := s.cols.acquire(r.Context(), collName)
	if err != nil {
		ae := classify(err)
		if ae.Status == http.StatusNotFound {
			ae = &apiError{Status: http.StatusNotFound, Type: typeInvalidRequest, Param: "model", Code: "model_not_found",
				Message: fmt.Sprintf("the model %q does not exist: no collection %q", req.Model, collName)}
		}
		s.writeError(w, r, ae)
		return
	}
	defer release()
	var unknown *distill.UnknownTechniqueError
	if err := checkTechnique(c.eng, tech); errors.As(err, &unknown) {
		s.writeError(w, r, &apiError{Status: http.StatusNotFound, Type: typeInvalidRequest, Param: "model", Code: "model_not_found",
			Message: fmt.Sprintf("the model %q does not exist: %v; see GET /v1/models", req.Model, err)})
		return
	} else if err != nil {
		ae := classify(err)
		ae.Param = "model"
		s.writeError(w, r, ae)
		return
	}
	id := newID("chatcmpl-")
	created := time.Now().Unix()
	if !req.Stream {
		res, err := c.eng.AskConversation(r.Context(), turns, tech, distill.Where(where))
		if err != nil {
			s.writeError(w, r, chatError(err))
			return
		}
		s.metrics.observeAnswer(c.eng.LLMName(), res)
		content := res.Answer + citations(res)
		stop := "stop"
		writeJSON(w, http.StatusOK, chatCompletion{ID: id, Object: "chat.completion", Created: created, Model: req.Model,
			Choices: []chatChoice{{Message: &chatOut{Role: "assistant", Content: &content}, FinishReason: &stop}},
			Usage:   usageOf(res), Sources: res.Contexts})
		return
	}
	s.streamChat(w, r, c.eng, &req, turns, tech, id, created, distill.Where(where))
}

// chatError words engine errors for chat clients.
func chatError(err error) error {
	ae := classify(err)
	if ae.Status == http.StatusBadRequest && ae.Param == "" {
		ae.Param = "messages"
	}
	if ae.Code == "invalid_filter" {
		ae.Param = "metadata.where"
	}
	return ae
}

// streamChat streams a chat completion as OpenAI does: chunks with
// deltas, a last chunk with the finish reason (and distill's sources), a
// usage chunk when asked, then [DONE].
func (s *Server) streamChat(w http.ResponseWriter, r *http.Request, eng *distill.Engine, req *chatRequest, turns []model.Message, tech, id string, created int64, opts ...distill.QueryOption) {
	// Mistakes in the conversation are still plain 4xx responses; the
	// condensing, which may take a model call, runs once the stream started.
	if err := checkConversation(turns); err != nil {
		s.writeError(w, r, chatError(err))
		return
	}
	ev := newSSE(w)
	chunk := func(delta *chatOut, finish *string) chatCompletion {
		return chatCompletion{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
			Choices: []chatChoice{{Delta: delta, FinishReason: finish}}}
	}
	// The stream (200) starts with the answer's first token, so that a
	// failure before it, such as a rate-limited or unavailable model
	// provider, is an answer with its own status and Retry-After.
	empty := ""
	send := func(delta *chatOut) error {
		if !ev.started {
			if err := ev.event("", chunk(&chatOut{Role: "assistant", Content: &empty}, nil)); err != nil {
				return err
			}
		}
		return ev.event("", chunk(delta, nil))
	}
	question, stage, err := eng.Condense(r.Context(), turns)
	var res *distill.Result
	if err == nil {
		res, err = askStream(r.Context(), eng, question, tech, func(tok string) error {
			return send(&chatOut{Content: &tok})
		}, opts...)
	}
	if err != nil && !ev.started {
		s.writeError(w, r, chatError(err))
		return
	}
	if err != nil {
		if r.Context().Err() == nil || classify(err).Status == http.StatusGatewayTimeout {
			ev.event("", errorJSON(classify(err)))
		}
		return
	}
	if !ev.started { // an empty answer still opens with the role chunk
		if ev.event("", chunk(&chatOut{Role: "assistant", Content: &empty}, nil)) != nil {
			return
		}
	}
	if stage != nil {
		res.AddStage(*stage)
	}
	s.metrics.observeAnswer(eng.LLMName(), res)
	if cites := citations(res); cites != "" {
		if ev.event("", chunk(&chatOut{Content: &cites}, nil)) != nil {
			return
		}
	}
	stop := "stop"
	last := chunk(&chatOut{}, &stop)
	last.Sources = res.Contexts
	if ev.event("", last) != nil {
		return
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		u := chatCompletion{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
			Choices: []chatChoice{}, Usage: usageOf(res)}
		if ev.event("", u) != nil {
			return
		}
	}
	ev.event("", "[DONE]")
}

// checkConversation reports a conversation that does not end with a
// user's question, as Condense would.
func checkConversation(turns []model.Message) error {
	for i := len(turns) - 1; i >= 0; i-- {
		switch turns[i].Role {
		case "user":
			if !trimmed(turns[i].Content) {
				return distill.ErrEmptyQuestion
			}
			return nil
		case "assistant":
			return distill.ErrNoQuestion
		}
	}
	return distill.ErrNoQuestion
}

var citeRef = regexp.MustCompile(`\[(\d+)\]`)

// citations lists the sources an answer cites, for chat clients that show
// only the message text:
//
//	Sources:
//	[1] letter-2022.pdf, page 3
func citations(res *distill.Result) string {
	cited := map[int]bool{}
	for _, m := range citeRef.FindAllStringSubmatch(res.Answer, -1) {
		n, _ := strconv.Atoi(m[1])
		cited[n] = true
	}
	var ranks []int
	for n := range cited {
		if n >= 1 && n <= len(res.Contexts) {
			ranks = append(ranks, n)
		}
	}
	if len(ranks) == 0 {
		return ""
	}
	sort.Ints(ranks)
	var b strings.Builder
	b.WriteString("\n\nSources:")
	for _, n := range ranks {
		c := res.Contexts[n-1]
		fmt.Fprintf(&b, "\n[%d] %s", n, filepath.Base(c.Source))
		if c.Page > 0 {
			fmt.Fprintf(&b, ", page %d", c.Page)
		}
	}
	return b.String()
}

// modelList is OpenAI's list of models.
type modelList struct {
	Object string      `json:"object"`
	Data   []modelInfo `json:"data"`
}

type modelInfo struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	Created     int64  `json:"created"`
	OwnedBy     string `json:"owned_by"`
	Description string `json:"description,omitempty"`
}

// listModels lists one model per technique that can run with the
// configured models: the default collection's as
// the technique's name, other collections' as "collection/technique".
func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	names, err := s.cols.names()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := modelList{Object: "list", Data: []modelInfo{}}
	sort.SliceStable(names, func(i, j int) bool { return names[i] == s.cfg.DefaultCollection && names[j] != s.cfg.DefaultCollection })
	for _, name := range names {
		c, release, err := s.cols.acquire(r.Context(), name)
		if err != nil {
			continue
		}
		for _, t := range c.eng.Techniques() {
			if t.Unavailable != "" {
				continue // it would only fail; /v1/techniques says why
			}
			id := t.Name
			if name != s.cfg.DefaultCollection {
				id = name + "/" + t.Name
			}
			out.Data = append(out.Data, modelInfo{ID: id, Object: "model", Created: s.started.Unix(), OwnedBy: "distill", Description: t.Description})
		}
		release()
	}
	writeJSON(w, http.StatusOK, out)
}
