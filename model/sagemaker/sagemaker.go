// Package sagemaker is the "sagemaker:ENDPOINT" provider: models deployed
// on SageMaker endpoints (the study deployed Mixtral 8x7B Instruct and BGE
// Large En from JumpStart), called through aws-sdk-go-v2's
// InvokeEndpoint and InvokeEndpointWithResponseStream.
//
// Generation formats (format option): "tgi" (default) sends the study's
// {"inputs", "parameters"} body with the prompt rendered by the model's
// chat template and reads [{"generated_text"}]; "messages" sends an
// OpenAI-style chat body and reads a chat completion. Embedding formats:
// "jumpstart" (default) sends {"text_inputs": [...], "mode": "embedding"}
// and reads {"embedding": [[...]]}; "tei" sends {"inputs": [...]} and
// reads [[...]] (Hugging Face's TEI container).
package sagemaker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/internal/awsx"
	"github.com/distill-rag/distill/model/remote"
)

func init() {
	model.RegisterLLM("sagemaker", func(ctx context.Context, u model.URI) (model.LLM, error) {
		return open(ctx, u, []string{"tgi", "messages"})
	})
	model.RegisterEmbedder("sagemaker", func(ctx context.Context, u model.URI) (model.Embedder, error) {
		return open(ctx, u, []string{"jumpstart", "tei"})
	})
}

// Endpoint is a model behind a SageMaker endpoint.
type Endpoint struct {
	name, endpoint, component string
	format, template          string
	settings                  model.Settings
	policy                    remote.Policy
	client                    *sagemakerruntime.Client
}

func open(ctx context.Context, u model.URI, formats []string) (*Endpoint, error) {
	if u.Target == "" {
		return nil, &model.URIError{URI: u.Raw, Reason: "name the endpoint, e.g. sagemaker:jumpstart-dft-hf-llm-mixtral-8x7b-instruct"}
	}
	s, err := u.Settings(append([]string{"format", "component"}, awsx.Options...)...)
	if err != nil {
		return nil, err
	}
	format := u.Options.Get("format")
	if format == "" {
		format = formats[0]
	}
	if !contains(formats, format) {
		return nil, &model.URIError{URI: u.Raw, Reason: fmt.Sprintf("option format: %q is not one of %s", format, strings.Join(formats, ", "))}
	}
	cfg, err := awsx.Load(ctx, u)
	if err != nil {
		return nil, err
	}
	e := &Endpoint{
		name: u.Name("format", "component"), endpoint: u.Target, component: u.Options.Get("component"),
		format: format, settings: s, policy: remote.DefaultPolicy(s),
		client: sagemakerruntime.NewFromConfig(cfg),
	}
	e.template = s.Template
	if e.template == "" {
		e.template = model.TemplateFor(u.Target)
	}
	if format == "tgi" && s.Stop == nil {
		e.settings.Stop = model.TGIStop
	}
	return e, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (e *Endpoint) Name() string { return e.name }

func (e *Endpoint) errorf(status int, format string, args ...any) error {
	return &model.Error{Provider: "sagemaker", Endpoint: e.endpoint, Status: status, Message: fmt.Sprintf(format, args...), Permanent: true}
}

func (e *Endpoint) invoke(ctx context.Context, body any, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return remote.Do(ctx, e.policy, func(ctx context.Context) error {
		in := &sagemakerruntime.InvokeEndpointInput{
			EndpointName: aws.String(e.endpoint), Body: data,
			ContentType: aws.String("application/json"), Accept: aws.String("application/json"),
		}
		if e.component != "" {
			in.InferenceComponentName = aws.String(e.component)
		}
		resp, err := e.client.InvokeEndpoint(ctx, in)
		if err != nil {
			return awsx.Error("sagemaker", e.endpoint, err)
		}
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return e.errorf(200, "malformed answer (%s): %v", remote.Snippet(resp.Body), err)
		}
		return nil
	})
}

// tgiParameters are TGI's generation parameters. TGI refuses a zero
// temperature or a top_p of 1 when sampling, so those turn sampling off or
// drop top_p.
type tgiParameters struct {
	DoSample       bool     `json:"do_sample"`
	MaxNewTokens   int      `json:"max_new_tokens"`
	TopP           *float64 `json:"top_p,omitempty"`
	Temperature    *float64 `json:"temperature,omitempty"`
	ReturnFullText bool     `json:"return_full_text"`
	Stop           []string `json:"stop,omitempty"`
	Details        bool     `json:"details"`
}

type tgiRequest struct {
	Inputs     string        `json:"inputs"`
	Parameters tgiParameters `json:"parameters"`
	Stream     bool          `json:"stream,omitempty"`
}

type tgiDetails struct {
	FinishReason    string `json:"finish_reason"`
	GeneratedTokens int    `json:"generated_tokens"`
}

func (e *Endpoint) tgi(req model.Request, stream bool) (tgiRequest, model.Request) {
	req = e.settings.Apply(req)
	p := tgiParameters{DoSample: *req.Temperature > 0, MaxNewTokens: req.MaxTokens, Stop: req.Stop, Details: true}
	if p.DoSample {
		p.Temperature = req.Temperature
		if *req.TopP > 0 && *req.TopP < 1 {
			p.TopP = req.TopP
		}
	}
	return tgiRequest{Inputs: model.Template(e.template, e.endpoint)(req.Messages), Parameters: p, Stream: stream}, req
}

type chatRequest struct {
	Messages    []model.Message `json:"messages"`
	MaxTokens   int             `json:"max_tokens"`
	Temperature float64         `json:"temperature"`
	TopP        float64         `json:"top_p"`
	Stop        []string        `json:"stop,omitempty"`
	Stream      bool            `json:"stream,omitempty"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func (e *Endpoint) chat(req model.Request, stream bool) chatRequest {
	req = e.settings.Apply(req)
	return chatRequest{Messages: req.Messages, MaxTokens: req.MaxTokens, Temperature: *req.Temperature, TopP: *req.TopP, Stop: req.Stop, Stream: stream}
}

// Generate invokes the endpoint once for the whole answer.
func (e *Endpoint) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	if e.format == "messages" {
		var resp chatResponse
		if err := e.invoke(ctx, e.chat(req, false), &resp); err != nil {
			return model.Response{}, err
		}
		if len(resp.Choices) == 0 {
			return model.Response{}, e.errorf(200, "malformed answer: no choices")
		}
		out := model.Response{Text: resp.Choices[0].Message.Content, FinishReason: resp.Choices[0].FinishReason, Usage: cost.Usage{Calls: 1}}
		if resp.Usage != nil {
			out.Usage.PromptTokens, out.Usage.CompletionTokens = resp.Usage.PromptTokens, resp.Usage.CompletionTokens
		}
		return out, nil
	}
	body, full := e.tgi(req, false)
	var raw json.RawMessage
	if err := e.invoke(ctx, body, &raw); err != nil {
		return model.Response{}, err
	}
	text, details, err := decodeTGI(raw)
	if err != nil {
		return model.Response{}, e.errorf(200, "%v", err)
	}
	out := model.Response{Text: model.TrimStop(text, full.Stop), Usage: tgiUsage(body.Inputs, details, text)}
	if details != nil {
		out.FinishReason = details.FinishReason
	}
	return out, nil
}

// decodeTGI reads TGI's answer, [{"generated_text", "details"}], or the
// object alone as some containers send it.
func decodeTGI(raw []byte) (string, *tgiDetails, error) {
	type generated struct {
		GeneratedText *string     `json:"generated_text"`
		Details       *tgiDetails `json:"details"`
	}
	var list []generated
	if err := json.Unmarshal(raw, &list); err != nil {
		var one generated
		if err := json.Unmarshal(raw, &one); err != nil {
			return "", nil, fmt.Errorf("malformed answer (%s)", remote.Snippet(raw))
		}
		list = []generated{one}
	}
	if len(list) == 0 || list[0].GeneratedText == nil {
		return "", nil, fmt.Errorf("malformed answer: no generated_text (%s)", remote.Snippet(raw))
	}
	return *list[0].GeneratedText, list[0].Details, nil
}

// tgiUsage counts tokens: TGI reports the generated ones; the prompt's
// are estimated.
func tgiUsage(prompt string, d *tgiDetails, text string) cost.Usage {
	u := cost.Usage{Calls: 1, PromptTokens: model.EstimateTokens(prompt), Estimated: true}
	if d != nil && d.GeneratedTokens > 0 {
		u.CompletionTokens = d.GeneratedTokens
	} else {
		u.CompletionTokens = model.EstimateTokens(text)
	}
	return u
}

// Stream invokes the endpoint with a response stream. The payload parts
// carry server-sent events ("data:{...}" lines, TGI's tokens or chat
// completion chunks) cut at arbitrary places, so lines are reassembled.
func (e *Endpoint) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	var body any
	var stop []string
	var prompt string
	if e.format == "messages" {
		c := e.chat(req, true)
		body, stop = c, c.Stop
	} else {
		t, full := e.tgi(req, true)
		body, stop, prompt = t, full.Stop, t.Inputs
	}
	data, err := json.Marshal(body)
	if err != nil {
		return model.Response{}, err
	}
	var out model.Response
	err = remote.Do(ctx, e.policy, func(ctx context.Context) error {
		in := &sagemakerruntime.InvokeEndpointWithResponseStreamInput{
			EndpointName: aws.String(e.endpoint), Body: data,
			ContentType: aws.String("application/json"), Accept: aws.String("application/json"),
		}
		if e.component != "" {
			in.InferenceComponentName = aws.String(e.component)
		}
		resp, err := e.client.InvokeEndpointWithResponseStream(ctx, in)
		if err != nil {
			return awsx.Error("sagemaker", e.endpoint, err)
		}
		stream := resp.GetStream()
		defer stream.Close()
		p := &streamParser{endpoint: e, onToken: onToken, messages: e.format == "messages", stop: stop}
		for ev := range stream.Events() {
			part, ok := ev.(*types.ResponseStreamMemberPayloadPart)
			if !ok {
				continue
			}
			if err := p.write(part.Value.Bytes); err != nil {
				return err
			}
		}
		// An error after the answer's last event (the SDK sometimes reports
		// the connection closing under a finished stream) loses nothing.
		if err := stream.Err(); err != nil && !p.done {
			me := awsx.Error("sagemaker", e.endpoint, err)
			me.Permanent = p.text.Len() > 0
			return me
		}
		if err := p.flush(); err != nil {
			return err
		}
		if err := p.end(); err != nil {
			return err
		}
		if !p.done {
			// The SDK reads a stream cut off in the middle of an event as
			// its end. Asking again is safe while nothing was shown.
			return &model.Error{Provider: "sagemaker", Endpoint: e.endpoint, Status: 200, Message: "the stream ended before the answer did",
				Err: io.ErrUnexpectedEOF, Permanent: p.text.Len() > 0}
		}
		out = model.Response{Text: model.TrimStop(p.text.String(), stop), FinishReason: p.finish}
		if p.messages {
			out.Usage = cost.Usage{Calls: 1, PromptTokens: p.promptTokens, CompletionTokens: p.completionTokens}
			if p.promptTokens == 0 && p.completionTokens == 0 {
				out.Usage = cost.Usage{Calls: 1, PromptTokens: model.EstimateTokens(string(data)), CompletionTokens: model.EstimateTokens(out.Text), Estimated: true}
			}
		} else {
			out.Usage = tgiUsage(prompt, &tgiDetails{GeneratedTokens: p.completionTokens}, out.Text)
		}
		return nil
	})
	return out, err
}

type streamParser struct {
	endpoint *Endpoint
	onToken  func(string) error
	messages bool
	stop     []string
	buf      []byte
	pending  string
	stopped  bool
	text     strings.Builder
	done     bool
	finish   string

	promptTokens, completionTokens int
}

func (p *streamParser) write(b []byte) error {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return nil
		}
		line := bytes.TrimSpace(p.buf[:i])
		p.buf = p.buf[i+1:]
		if err := p.line(line); err != nil {
			return err
		}
	}
}

func (p *streamParser) flush() error {
	line := bytes.TrimSpace(p.buf)
	p.buf = nil
	return p.line(line)
}

func (p *streamParser) line(line []byte) error {
	if len(line) == 0 || line[0] == ':' {
		return nil
	}
	line = bytes.TrimSpace(bytes.TrimPrefix(line, []byte("data:")))
	if string(line) == "[DONE]" {
		p.done = true
		return nil
	}
	if p.messages {
		var c chatResponse
		if err := json.Unmarshal(line, &c); err != nil {
			return p.endpoint.errorf(200, "malformed stream event (%s)", remote.Snippet(line))
		}
		if c.Usage != nil {
			p.promptTokens, p.completionTokens = c.Usage.PromptTokens, c.Usage.CompletionTokens
		}
		for _, ch := range c.Choices {
			if err := p.emit(ch.Delta.Content); err != nil {
				return err
			}
			if ch.FinishReason != "" {
				p.finish = ch.FinishReason
			}
		}
		return nil
	}
	var ev struct {
		Token *struct {
			Text    string `json:"text"`
			Special bool   `json:"special"`
		} `json:"token"`
		GeneratedText *string     `json:"generated_text"`
		Details       *tgiDetails `json:"details"`
		Error         string      `json:"error"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return p.endpoint.errorf(200, "malformed stream event (%s)", remote.Snippet(line))
	}
	if ev.Error != "" {
		return p.endpoint.errorf(200, "%s", ev.Error)
	}
	if ev.Token != nil && !ev.Token.Special {
		if err := p.emit(ev.Token.Text); err != nil {
			return err
		}
	}
	if ev.Details != nil {
		p.done, p.finish, p.completionTokens = true, ev.Details.FinishReason, ev.Details.GeneratedTokens
	} else if ev.GeneratedText != nil {
		p.done = true
	}
	return nil
}

// emit passes text on as it arrives, except a stop sequence: TGI sends the
// one it stopped on, possibly in several tokens, so text that may be the
// start of one waits until the next token settles it.
func (p *streamParser) emit(tok string) error {
	if tok == "" || p.stopped {
		return nil
	}
	p.pending += tok
	out := p.pending
	for _, s := range p.stop {
		if i := strings.Index(p.pending, s); s != "" && i >= 0 && i < len(out) {
			out, p.stopped = p.pending[:i], true
		}
	}
	if p.stopped {
		p.pending = ""
		return p.send(out)
	}
	hold := 0
	for _, s := range p.stop {
		for n := min(len(s)-1, len(out)); n > hold; n-- {
			if strings.HasSuffix(out, s[:n]) {
				hold = n
				break
			}
		}
	}
	p.pending = out[len(out)-hold:]
	return p.send(out[:len(out)-hold])
}

// end sends text held back that turned out not to be a stop sequence.
func (p *streamParser) end() error {
	out := p.pending
	p.pending = ""
	return p.send(out)
}

func (p *streamParser) send(s string) error {
	if s == "" {
		return nil
	}
	p.text.WriteString(s)
	if err := p.onToken(s); err != nil {
		return &model.Error{Provider: "sagemaker", Endpoint: p.endpoint.endpoint, Err: err, Permanent: true}
	}
	return nil
}

// Embed invokes the endpoint with a batch of texts.
func (e *Endpoint) Embed(ctx context.Context, texts []string, _ model.Purpose) ([][]float32, error) {
	var vecs [][]float32
	if e.format == "tei" {
		if err := e.invoke(ctx, map[string]any{"inputs": texts, "truncate": true}, &vecs); err != nil {
			return nil, err
		}
	} else {
		var resp struct {
			Embedding [][]float32 `json:"embedding"`
		}
		if err := e.invoke(ctx, map[string]any{"text_inputs": texts, "mode": "embedding"}, &resp); err != nil {
			return nil, err
		}
		vecs = resp.Embedding
	}
	if len(vecs) != len(texts) {
		return nil, e.errorf(200, "malformed answer: %d embeddings for %d texts", len(vecs), len(texts))
	}
	return vecs, nil
}
