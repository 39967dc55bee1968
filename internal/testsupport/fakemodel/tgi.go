package fakemodel

import (
	"encoding/json"
	"fmt"
	"strings"
)

// tgiRequest is the body of TGI's /generate, which SageMaker's Hugging Face
// LLM containers take on /invocations too.
type tgiRequest struct {
	Inputs     *string `json:"inputs"`
	Parameters *struct {
		DoSample       *bool    `json:"do_sample"`
		MaxNewTokens   *int     `json:"max_new_tokens"`
		TopP           *float64 `json:"top_p"`
		Temperature    *float64 `json:"temperature"`
		ReturnFullText *bool    `json:"return_full_text"`
		Stop           []string `json:"stop"`
		Details        bool     `json:"details"`
	} `json:"parameters"`
	Stream bool `json:"stream"`
}

// validate refuses what TGI refuses.
func (in *tgiRequest) validate() error {
	if in.Inputs == nil || *in.Inputs == "" {
		return fmt.Errorf("Input validation error: `inputs` cannot be empty")
	}
	if p := in.Parameters; p != nil {
		if p.Temperature != nil && *p.Temperature <= 0 {
			return fmt.Errorf("Input validation error: `temperature` must be strictly positive")
		}
		if p.TopP != nil && (*p.TopP <= 0 || *p.TopP >= 1) {
			return fmt.Errorf("Input validation error: `top_p` must be > 0.0 and < 1.0")
		}
		if p.MaxNewTokens != nil && *p.MaxNewTokens <= 0 {
			return fmt.Errorf("Input validation error: `max_new_tokens` must be strictly positive")
		}
		if len(p.Stop) > 4 {
			return fmt.Errorf("Input validation error: `stop` supports up to 4 stop sequences. Given: %d", len(p.Stop))
		}
	}
	return nil
}

// tgiAnswer is the reply to a TGI request and whether it stops on a stop
// sequence (TGI keeps that sequence at the end of the text).
func (s *Server) tgiAnswer(in *tgiRequest) (text, stop string, details map[string]any) {
	text = s.reply(*in.Inputs)
	reason := "eos_token"
	if in.Parameters != nil && len(in.Parameters.Stop) > 0 {
		stop = in.Parameters.Stop[0]
		text += stop
		reason = "stop_sequence"
	}
	return text, stop, map[string]any{"finish_reason": reason, "generated_tokens": s.cfg.completionTokens, "seed": nil}
}

// tgiEvents are the server-sent events of TGI's /generate_stream.
func tgiEvents(text string, stop string, details map[string]any) []string {
	toks := Tokens(strings.TrimSuffix(text, stop))
	if stop != "" { // a stop sequence is made of tokens too
		half := len(stop) / 2
		toks = append(toks, stop[:half], stop[half:])
	}
	out := make([]string, 0, len(toks))
	for i, tok := range toks {
		ev := map[string]any{"index": i, "token": map[string]any{"id": 100 + i, "text": tok, "logprob": -0.5, "special": false}, "generated_text": nil, "details": nil}
		if i == len(toks)-1 {
			ev["generated_text"] = text
			ev["details"] = details
		}
		data, _ := json.Marshal(ev)
		out = append(out, "data:"+string(data)+"\n\n")
	}
	return out
}
