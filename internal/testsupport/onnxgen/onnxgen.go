// Package onnxgen writes small BERT-shaped transformer encoders as ONNX
// files, with a WordPiece tokenizer.json and the sentence-transformers
// configuration files a model folder from the Hugging Face hub holds, and
// computes the same models' outputs independently in plain Go. Tests of
// in-process embedding and reranking use it instead of downloaded models;
// benchmarks use it at real model sizes with random weights.
package onnxgen

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Config is the shape of an encoder.
type Config struct {
	Vocab        []string // WordPiece vocabulary; the first five are [PAD] [UNK] [CLS] [SEP] [MASK]
	Hidden       int
	Layers       int
	Heads        int
	Intermediate int
	MaxPositions int
	TypeVocab    int
	Seed         uint64

	// CrossEncoder adds BERT's pooler and a one-logit classifier, as
	// cross-encoder rerankers have: the only output is "logits" [batch, 1].
	// Otherwise the output is "last_hidden_state" [batch, sequence, hidden].
	CrossEncoder bool
	// DecomposedLayerNorm writes layer norms as ReduceMean, Sub, Pow, Sqrt
	// and Div, as exports for opsets before 17 do.
	DecomposedLayerNorm bool
	// NoTokenTypes leaves out the token_type_ids input and its embedding,
	// as DistilBERT-style exports do.
	NoTokenTypes bool
}

// Tiny is a two-layer encoder over TinyVocab, small enough for unit tests.
func Tiny() Config {
	return Config{Vocab: TinyVocab, Hidden: 16, Layers: 2, Heads: 2, Intermediate: 32, MaxPositions: 64, TypeVocab: 2, Seed: 1}
}

// MiniLM has the shape of all-MiniLM-L6-v2 (22.7M parameters) with a
// synthetic vocabulary of the same size.
func MiniLM() Config {
	vocab := append([]string(nil), TinyVocab...)
	for i := len(vocab); i < 30522; i++ {
		vocab = append(vocab, fmt.Sprintf("w%d", i))
	}
	return Config{Vocab: vocab, Hidden: 384, Layers: 6, Heads: 12, Intermediate: 1536, MaxPositions: 512, TypeVocab: 2, Seed: 7}
}

// TinyVocab is a WordPiece vocabulary that covers the test sentences.
var TinyVocab = strings.Fields(`[PAD] [UNK] [CLS] [SEP] [MASK]
	the a an of to in on and is was for with by at from as it this that what which how
	revenue grew million sales zephyr line lantern ##s solar warehouse opened june
	cat dog sat mat run ##ning ##ed house zurich delivery fast über ##x
	question answer document search relevant passages represent sentence searching
	. , ? ! ' : ; - ( ) % $ 0 1 2 3 4 5 6 7 8 9 ##0 ##1 ##2 ##3 ##4 ##5 ##6 ##7 ##8 ##9`)

// Model is an encoder with random weights.
type Model struct {
	Config
	vocab  map[string]int
	params map[string]*param
	order  []string // parameter names in the order written
}

type param struct {
	dims []int
	data []float32
}

// New draws the weights of an encoder from cfg.Seed.
func New(cfg Config) *Model {
	if cfg.Vocab == nil {
		cfg.Vocab = TinyVocab
	}
	if cfg.TypeVocab == 0 {
		cfg.TypeVocab = 2
	}
	m := &Model{Config: cfg, vocab: map[string]int{}, params: map[string]*param{}}
	for i, tok := range cfg.Vocab {
		m.vocab[tok] = i
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	normal := func(scale float64) func() float32 {
		return func() float32 { return float32(rng.NormFloat64() * scale) }
	}
	// Matrices keep activations near unit variance, so that every layer
	// matters to the output and pooling choices give different vectors.
	matrix := func(name string, in, out int) {
		m.add(name, []int{in, out}, normal(1/math.Sqrt(float64(in))))
	}
	vector := func(name string, n int, base, scale float64) {
		draw := normal(scale)
		m.add(name, []int{n}, func() float32 { return float32(base) + draw() })
	}
	h := cfg.Hidden
	m.add("embeddings.word_embeddings.weight", []int{len(cfg.Vocab), h}, normal(0.5))
	m.add("embeddings.position_embeddings.weight", []int{cfg.MaxPositions, h}, normal(0.5))
	if !cfg.NoTokenTypes {
		m.add("embeddings.token_type_embeddings.weight", []int{cfg.TypeVocab, h}, normal(0.5))
	}
	vector("embeddings.LayerNorm.weight", h, 1, 0.1)
	vector("embeddings.LayerNorm.bias", h, 0, 0.1)
	for l := range cfg.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		for _, name := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
			matrix(p+name+".weight", h, h)
			vector(p+name+".bias", h, 0, 0.1)
		}
		vector(p+"attention.output.LayerNorm.weight", h, 1, 0.1)
		vector(p+"attention.output.LayerNorm.bias", h, 0, 0.1)
		matrix(p+"intermediate.dense.weight", h, cfg.Intermediate)
		vector(p+"intermediate.dense.bias", cfg.Intermediate, 0, 0.1)
		matrix(p+"output.dense.weight", cfg.Intermediate, h)
		vector(p+"output.dense.bias", h, 0, 0.1)
		vector(p+"output.LayerNorm.weight", h, 1, 0.1)
		vector(p+"output.LayerNorm.bias", h, 0, 0.1)
	}
	if cfg.CrossEncoder {
		matrix("pooler.dense.weight", h, h)
		vector("pooler.dense.bias", h, 0, 0.1)
		matrix("classifier.weight", h, 1)
		vector("classifier.bias", 1, 0, 0.1)
	}
	return m
}

func (m *Model) add(name string, dims []int, draw func() float32) {
	n := 1
	for _, d := range dims {
		n *= d
	}
	p := &param{dims: dims, data: make([]float32, n)}
	for i := range p.data {
		p.data[i] = draw()
	}
	m.params[name] = p
	m.order = append(m.order, name)
}

// Files says which files Write puts in a model folder besides the
// tokenizer, config.json and special_tokens_map.json.
type Files struct {
	// ONNX is the model file's path in the folder; "" means model.onnx.
	ONNX string
	// ExternalData writes the weights into ONNX+"_data" next to the graph.
	ExternalData bool
	// Pooling "cls" or "mean" writes modules.json and 1_Pooling/config.json
	// as sentence-transformers does; "" writes neither.
	Pooling string
	// Normalize adds the Normalize module to modules.json.
	Normalize bool
	// MaxSeqLength writes sentence_bert_config.json when not 0.
	MaxSeqLength int
	// QueryPrompt writes config_sentence_transformers.json with this prompt
	// for queries when not "".
	QueryPrompt string
	// Truncation is the tokenizer's own max_length; 0 writes null.
	Truncation int
}

// Write writes the model folder into dir.
func (m *Model) Write(dir string, f Files) error {
	if f.ONNX == "" {
		f.ONNX = "model.onnx"
	}
	onnxPath := filepath.Join(dir, filepath.FromSlash(f.ONNX))
	if err := os.MkdirAll(filepath.Dir(onnxPath), 0o755); err != nil {
		return err
	}
	graph, data := m.encode(f.ExternalData, filepath.Base(onnxPath)+"_data")
	if err := os.WriteFile(onnxPath, graph, 0o644); err != nil {
		return err
	}
	if f.ExternalData {
		if err := os.WriteFile(onnxPath+"_data", data, 0o644); err != nil {
			return err
		}
	}
	files := map[string]any{
		"tokenizer.json":          m.tokenizerJSON(f.Truncation),
		"config.json":             m.hfConfig(),
		"special_tokens_map.json": map[string]string{"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"},
	}
	if f.Pooling != "" {
		modules := []map[string]any{
			{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
			{"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
		}
		if f.Normalize {
			modules = append(modules, map[string]any{"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
		}
		files["modules.json"] = modules
		files["1_Pooling/config.json"] = map[string]any{
			"word_embedding_dimension":          m.Hidden,
			"pooling_mode_cls_token":            f.Pooling == "cls",
			"pooling_mode_mean_tokens":          f.Pooling == "mean",
			"pooling_mode_max_tokens":           f.Pooling == "max",
			"pooling_mode_mean_sqrt_len_tokens": false,
			"pooling_mode_weightedmean_tokens":  false,
			"pooling_mode_lasttoken":            false,
			"include_prompt":                    true,
		}
	}
	if f.MaxSeqLength != 0 {
		files["sentence_bert_config.json"] = map[string]any{"max_seq_length": f.MaxSeqLength, "do_lower_case": false}
	}
	if f.QueryPrompt != "" {
		files["config_sentence_transformers.json"] = map[string]any{
			"prompts":             map[string]string{"query": f.QueryPrompt, "document": ""},
			"default_prompt_name": nil,
			"similarity_fn_name":  "cosine",
		}
	}
	for name, v := range files {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (m *Model) hfConfig() map[string]any {
	c := map[string]any{
		"model_type":              "bert",
		"architectures":           []string{"BertModel"},
		"hidden_size":             m.Hidden,
		"num_hidden_layers":       m.Layers,
		"num_attention_heads":     m.Heads,
		"intermediate_size":       m.Intermediate,
		"max_position_embeddings": m.MaxPositions,
		"type_vocab_size":         m.TypeVocab,
		"vocab_size":              len(m.Vocab),
		"pad_token_id":            0,
		"layer_norm_eps":          1e-12,
		"hidden_act":              "gelu",
	}
	if m.CrossEncoder {
		c["architectures"] = []string{"BertForSequenceClassification"}
		c["id2label"] = map[string]string{"0": "LABEL_0"}
	}
	return c
}

// tokenizerJSON is a Hugging Face tokenizers file for a BERT WordPiece
// tokenizer, as BERT-family models on the hub ship it.
func (m *Model) tokenizerJSON(truncation int) map[string]any {
	special := func(tok string, typeID int) map[string]any {
		return map[string]any{"SpecialToken": map[string]any{"id": tok, "type_id": typeID}}
	}
	seq := func(id string, typeID int) map[string]any {
		return map[string]any{"Sequence": map[string]any{"id": id, "type_id": typeID}}
	}
	var added []map[string]any
	for i, tok := range m.Vocab[:5] {
		added = append(added, map[string]any{"id": i, "content": tok, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true})
	}
	var trunc any
	if truncation > 0 {
		trunc = map[string]any{"direction": "Right", "max_length": truncation, "strategy": "LongestFirst", "stride": 0}
	}
	return map[string]any{
		"version":       "1.0",
		"truncation":    trunc,
		"padding":       nil,
		"added_tokens":  added,
		"normalizer":    map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": nil, "lowercase": true},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{special("[CLS]", 0), seq("A", 0), special("[SEP]", 0)},
			"pair":   []any{special("[CLS]", 0), seq("A", 0), special("[SEP]", 0), seq("B", 1), special("[SEP]", 1)},
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{m.vocab["[CLS]"]}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{m.vocab["[SEP]"]}, "tokens": []string{"[SEP]"}},
			},
		},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model": map[string]any{
			"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": m.vocab,
		},
	}
}
