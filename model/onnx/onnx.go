// Package onnx runs Hugging Face transformer models in-process from a
// folder on disk, in pure Go: sentence embeddings ("onnx:DIR" as an
// embedding model) and cross-encoder scores ("onnx:DIR" as a reranker).
// A folder holds model.onnx (or onnx/model.onnx, or a file named with
// ?file=, with external .onnx_data weights if the export has them) and
// tokenizer.json; sentence-transformers' modules.json, 1_Pooling/config.json
// and Normalize module say how token vectors become a sentence vector
// (mean or CLS pooling; BGE uses CLS) and whether it is normalized.
//
// The graph runs on hugot's pure-Go backend (GoMLX simplego); tokenization
// is github.com/sugarme/tokenizer, a Go port of Hugging Face tokenizers.
package onnx

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/distill-rag/distill/model"
)

func init() {
	model.RegisterEmbedder("onnx", func(ctx context.Context, u model.URI) (model.Embedder, error) {
		if u.Target == "" {
			return nil, &model.URIError{URI: u.Raw, Reason: "want onnx:DIR, a folder with model.onnx and tokenizer.json"}
		}
		return OpenEmbedder(ctx, "onnx:"+u.Target, u.Target, u.Options)
	})
	model.RegisterReranker("onnx", func(ctx context.Context, u model.URI) (model.Reranker, error) {
		if u.Target == "" {
			return nil, &model.URIError{URI: u.Raw, Reason: "want onnx:DIR, a folder with a cross-encoder's model.onnx and tokenizer.json"}
		}
		return OpenReranker(ctx, "onnx:"+u.Target, u.Target, u.Options)
	})
}

// OptionError reports a URI option that is unknown or has a bad value.
type OptionError struct {
	Model  string
	Option string
	Msg    string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("model %q: option %s: %s", e.Model, e.Option, e.Msg)
}

// UserError marks the error as the user's to fix.
func (e *OptionError) UserError() {}

// settings are the URI options both kinds of model take.
type settings struct {
	file      string
	output    string
	maxTokens int
	batch     int

	// embedders
	pooling     *Pooling
	normalize   *bool
	queryPrefix *string
	docPrefix   *string
	// rerankers
	activation string
}

var (
	commonOptions   = []string{"file", "output", "max_tokens", "batch"}
	embedderOptions = []string{"pooling", "normalize", "query_prefix", "doc_prefix"}
	rerankerOptions = []string{"activation"}
)

// parseSettings reads opts, accepting the common options and extra.
func parseSettings(name string, opts url.Values, extra []string) (settings, error) {
	s := settings{batch: 32, activation: "sigmoid"}
	known := append(append([]string(nil), commonOptions...), extra...)
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts.Get(k)
		bad := func(msg string) error { return &OptionError{Model: name, Option: k, Msg: msg} }
		if !slices.Contains(known, k) {
			return s, bad("unknown (known: " + strings.Join(known, ", ") + ")")
		}
		switch k {
		case "file":
			s.file = v
		case "output":
			s.output = v
		case "max_tokens", "batch":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return s, bad(fmt.Sprintf("%q is not a positive whole number", v))
			}
			if k == "batch" {
				s.batch = n
			} else {
				s.maxTokens = n
			}
		case "pooling":
			p, err := parsePooling(v)
			if err != nil {
				return s, bad(err.Error())
			}
			s.pooling = &p
		case "normalize":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return s, bad(fmt.Sprintf("%q is not true or false", v))
			}
			s.normalize = &b
		case "query_prefix":
			s.queryPrefix = &v
		case "doc_prefix":
			s.docPrefix = &v
		case "activation":
			if v != "sigmoid" && v != "none" {
				return s, bad(fmt.Sprintf("%q: want sigmoid or none", v))
			}
			s.activation = v
		}
	}
	return s, nil
}

// loaded is a model folder opened for running.
type loaded struct {
	folder *folder
	net    *network
	tok    *textTokenizer
}

func open(dir string, s settings, outputs ...string) (*loaded, error) {
	f, err := readFolder(dir, s.file)
	if err != nil {
		return nil, err
	}
	tok, limit, err := loadTokenizer(dir, f.tokenizerFile)
	if err != nil {
		return nil, err
	}
	tok.maxLen = f.maxTokens(limit)
	if s.maxTokens > 0 {
		tok.maxLen = s.maxTokens
		if pl := f.positionLimit(); pl > 0 && tok.maxLen > pl {
			tok.maxLen = pl
		}
	}
	tok.maxLen = min(tok.maxLen, sequenceBuckets[len(sequenceBuckets)-1])
	net, err := loadNetwork(f, s.output, outputs...)
	if err != nil {
		return nil, err
	}
	return &loaded{folder: f, net: net, tok: tok}, nil
}

// runSorted runs inputs through the network in batches of up to size,
// longest first so that each batch pads little, and calls use with each
// input's index and output.
func (l *loaded) runSorted(ctx context.Context, inputs []tokens, size int, use func(i int, out any) error) error {
	order := make([]int, len(inputs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(inputs[order[a]].ids) > len(inputs[order[b]].ids) })
	for start := 0; start < len(order); start += size {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx := order[start:min(start+size, len(order))]
		batch := make([]tokens, len(idx))
		for j, i := range idx {
			batch[j] = inputs[i]
		}
		out, err := l.net.run(batch)
		if err != nil {
			return err
		}
		for j, i := range idx {
			var row any
			switch o := out.(type) {
			case [][][]float32:
				row = o[j]
			case [][]float32:
				row = o[j]
			default:
				return fmt.Errorf("onnx %s: unexpected output %T", l.folder.dir, out)
			}
			if err := use(i, row); err != nil {
				return err
			}
		}
	}
	return nil
}
