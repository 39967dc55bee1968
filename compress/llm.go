package compress

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/fence"
	"github.com/distill-rag/distill/model"
)

// llmParams are the parameters every LLM compressor takes.
type llmParams struct {
	// Prompt is a Go text/template with {{.Question}} and {{.Context}};
	// PromptFile names a file holding one (relative to the config file).
	Prompt     string `yaml:"prompt"`
	PromptFile string `yaml:"prompt_file"`
	// Concurrency bounds the calls in flight for one question.
	Concurrency int `yaml:"concurrency"`
	// Strict fails the answer when a call fails, instead of passing the
	// chunk on uncompressed.
	Strict bool `yaml:"strict"`
	// MaxTokens caps each answer; 0 sizes the cap from the chunk.
	MaxTokens   int           `yaml:"max_tokens"`
	Temperature float64       `yaml:"temperature"`
	Timeout     time.Duration `yaml:"timeout"` // per call
}

func defaultLLMParams() llmParams {
	return llmParams{Concurrency: 8, Timeout: 2 * time.Minute}
}

// llmCaller asks a model one question per passage, concurrently.
type llmCaller struct {
	LLM         model.LLM
	Prompt      *template.Template
	Concurrency int
	Strict      bool
	MaxTokens   int // 0: from the chunk size (see tokensFor)
	Temperature float64
	Timeout     time.Duration
	// tokensFor is the answer cap for a chunk when MaxTokens is 0.
	tokensFor func(chunk string) int
}

func newLLMCaller(llm model.LLM, stage config.Stage, p llmParams, defaultPrompt string, tokensFor func(string) int) (*llmCaller, error) {
	if p.Concurrency <= 0 {
		return nil, stage.ParamError("concurrency", "must be a positive number of calls, got %d", p.Concurrency)
	}
	if p.MaxTokens < 0 {
		return nil, stage.ParamError("max_tokens", "must be 0 (sized from the chunk) or a positive number of tokens, got %d", p.MaxTokens)
	}
	if p.Temperature < 0 || p.Temperature > 2 {
		return nil, stage.ParamError("temperature", "must be in [0, 2], got %g", p.Temperature)
	}
	if p.Timeout < 0 {
		return nil, stage.ParamError("timeout", "must be 0 (none) or a positive duration such as 60s, got %s", p.Timeout)
	}
	tmpl, err := loadPrompt(stage, p, defaultPrompt)
	if err != nil {
		return nil, err
	}
	return &llmCaller{
		LLM: llm, Prompt: tmpl, Concurrency: p.Concurrency, Strict: p.Strict, MaxTokens: p.MaxTokens,
		Temperature: p.Temperature, Timeout: p.Timeout, tokensFor: tokensFor,
	}, nil
}

// promptData is what a prompt template sees.
type promptData struct {
	Question string
	Context  string
}

// loadPrompt parses the prompt a stage names, checking that it shows the
// question and the context, since a prompt without them cannot work.
func loadPrompt(stage config.Stage, p llmParams, def string) (*template.Template, error) {
	text, key := def, ""
	switch {
	case p.Prompt != "" && p.PromptFile != "":
		return nil, stage.ParamError("prompt_file", "give prompt or prompt_file, not both")
	case p.Prompt != "":
		text, key = p.Prompt, "prompt"
	case p.PromptFile != "":
		key = "prompt_file"
		path := p.PromptFile
		if !filepath.IsAbs(path) && stage.File != "" && !strings.HasPrefix(stage.File, "<") {
			path = filepath.Join(filepath.Dir(stage.File), path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, stage.ParamError(key, "cannot read %s: %v", path, errors.Unwrap(err))
		}
		text = string(data)
	}
	tmpl, err := template.New(stage.Path).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, stage.ParamError(key, "bad template: %v", err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, promptData{Question: "\x00Q\x00", Context: "\x00C\x00"}); err != nil {
		return nil, stage.ParamError(key, "bad template: %v", err)
	}
	if !strings.Contains(b.String(), "\x00Q\x00") || !strings.Contains(b.String(), "\x00C\x00") {
		return nil, stage.ParamError(key, "the prompt must show {{.Question}} and {{.Context}}")
	}
	return tmpl, nil
}

// callResult is one model answer about one passage.
type callResult struct {
	Text      string
	Truncated bool // cut at the token cap (by the model or by us)
	MaxTokens int
	Usage     cost.Usage
	Err       error
}

// errCapped stops a stream that runs past the cap a provider ignored.
var errCapped = errors.New("answer capped")

// ask sends one prompt.
func (c *llmCaller) ask(ctx context.Context, question, chunk string) callResult {
	var b strings.Builder
	if err := c.Prompt.Execute(&b, promptData{Question: question, Context: fence.Text(chunk)}); err != nil {
		return callResult{Err: err}
	}
	prompt := b.String()
	maxTokens := c.MaxTokens
	if maxTokens == 0 {
		maxTokens = c.tokensFor(chunk)
	}
	temp := c.Temperature
	req := model.Request{Messages: []model.Message{{Role: "user", Content: prompt}}, Temperature: &temp, MaxTokens: maxTokens}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	// A provider that ignores max_tokens must not keep us reading forever:
	// no token is longer than 16 bytes in the tokenizers in use.
	capBytes := 16*maxTokens + 64
	var got strings.Builder
	capped := false
	resp, err := c.LLM.Stream(ctx, req, func(piece string) error {
		got.WriteString(piece)
		if got.Len() > capBytes {
			capped = true
			return errCapped
		}
		return nil
	})
	res := callResult{MaxTokens: maxTokens}
	switch {
	case capped:
		res.Text, res.Truncated = got.String(), true
		res.Usage = cost.Usage{Calls: 1, PromptTokens: cost.EstimateTokens(prompt), CompletionTokens: cost.EstimateTokens(res.Text), Estimated: true}
		return res
	case err != nil:
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s: %w", c.Timeout, err)
		}
		res.Err = err
		res.Usage = cost.Usage{Calls: 1}
		return res
	}
	res.Text = resp.Text
	if res.Text == "" && got.Len() > 0 {
		res.Text = got.String()
	}
	res.Truncated = resp.FinishReason == "length"
	res.Usage = resp.Usage
	if res.Usage.Cached > 0 {
		res.Usage = cost.Usage{Cached: res.Usage.Cached}
		return res
	}
	res.Usage.Calls = 1
	if res.Usage.PromptTokens == 0 && res.Usage.CompletionTokens == 0 {
		res.Usage.PromptTokens = cost.EstimateTokens(prompt)
		res.Usage.CompletionTokens = cost.EstimateTokens(res.Text)
		res.Usage.Estimated = true
	}
	return res
}

// each asks about every passage with at most Concurrency calls in flight.
// A failed call is recorded in its result; in strict mode it cancels the
// others and is returned.
func (c *llmCaller) each(ctx context.Context, question string, passages []document.Passage) ([]callResult, error) {
	results := make([]callResult, len(passages))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.Concurrency)
	for i, p := range passages {
		g.Go(func() error {
			results[i] = c.ask(gctx, question, p.Text)
			if c.Strict && results[i].Err != nil {
				return fmt.Errorf("chunk %s: %s: %w", p.ChunkID, c.LLM.Name(), results[i].Err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // the caller gave up: not a model failure to note
	}
	return results, nil
}

// chunkTokens is an answer cap for copying parts of a chunk: the chunk's
// own size and some room, since a faithful extract is never longer.
func chunkTokens(chunk string) int { return cost.EstimateTokens(chunk)*5/4 + 32 }

// quote shows a model answer in a note: on one line, shortened.
func quote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		s = string(r[:59]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
