package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FolderError reports a model folder that cannot be used: a missing or
// malformed file, or a setting distill does not support.
type FolderError struct {
	Dir  string
	File string // relative to Dir; "" for the folder itself
	Msg  string
	Err  error
}

func (e *FolderError) Error() string {
	where := e.Dir
	if e.File != "" {
		where = filepath.Join(e.Dir, e.File)
	}
	if e.Err != nil {
		return fmt.Sprintf("onnx model %s: %s: %v", where, e.Msg, e.Err)
	}
	return fmt.Sprintf("onnx model %s: %s", where, e.Msg)
}

func (e *FolderError) Unwrap() error { return e.Err }

// UserError marks the error as the user's to fix.
func (e *FolderError) UserError() {}

// Pooling says how token vectors become one sentence vector, as the
// sentence-transformers Pooling module does. Several modes concatenate.
type Pooling struct {
	CLS, Mean, Max, MeanSqrtLen, WeightedMean, LastToken bool
}

func (p Pooling) String() string {
	var modes []string
	for _, m := range []struct {
		on   bool
		name string
	}{{p.CLS, "cls"}, {p.Max, "max"}, {p.Mean, "mean"}, {p.MeanSqrtLen, "mean_sqrt_len"}, {p.WeightedMean, "weightedmean"}, {p.LastToken, "lasttoken"}} {
		if m.on {
			modes = append(modes, m.name)
		}
	}
	return strings.Join(modes, "+")
}

func (p Pooling) none() bool { return p == Pooling{} }

// parsePooling reads a pooling option: modes joined by "+", e.g. "cls".
func parsePooling(s string) (Pooling, error) {
	var p Pooling
	for _, m := range strings.Split(s, "+") {
		switch strings.TrimSpace(m) {
		case "cls":
			p.CLS = true
		case "mean":
			p.Mean = true
		case "max":
			p.Max = true
		case "mean_sqrt_len":
			p.MeanSqrtLen = true
		case "weightedmean":
			p.WeightedMean = true
		case "lasttoken":
			p.LastToken = true
		default:
			return p, fmt.Errorf("unknown pooling %q (want cls, mean, max, mean_sqrt_len, weightedmean or lasttoken)", m)
		}
	}
	return p, nil
}

// folder is what a model folder says about its model, besides the
// weights and the tokenizer.
type folder struct {
	dir  string
	onnx string // the model file, relative to dir

	modelType     string
	maxPositions  int
	maxSeqLength  int // sentence_bert_config.json
	modelMaxLen   int // tokenizer_config.json
	pooling       Pooling
	hasPooling    bool // a sentence-transformers Pooling module says how
	normalize     bool
	queryPrompt   string
	docPrompt     string
	tokenizerFile string
}

// ONNXCandidates are where model folders keep the ONNX file, in order:
// a plain export, then the hub's sentence-transformers layout.
var ONNXCandidates = []string{"model.onnx", "onnx/model.onnx"}

// readFolder reads the configuration files of a model folder. file names
// the ONNX file when the folder holds several.
func readFolder(dir, file string) (*folder, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, &FolderError{Dir: dir, Msg: "cannot open the model folder", Err: err}
	}
	if !info.IsDir() {
		return nil, &FolderError{Dir: dir, Msg: "not a folder; want a folder with model.onnx and tokenizer.json"}
	}
	f := &folder{dir: dir, tokenizerFile: "tokenizer.json"}
	if f.onnx, err = findONNX(dir, file); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, f.tokenizerFile)); err != nil {
		// Some exports keep the tokenizer next to the ONNX file only.
		alt := filepath.ToSlash(filepath.Join(filepath.Dir(f.onnx), "tokenizer.json"))
		if _, err2 := os.Stat(filepath.Join(dir, alt)); err2 != nil {
			return nil, &FolderError{Dir: dir, File: "tokenizer.json", Msg: "missing; the model's Hugging Face tokenizer file is needed", Err: err}
		}
		f.tokenizerFile = alt
	}

	var config struct {
		ModelType    string `json:"model_type"`
		MaxPositions int    `json:"max_position_embeddings"`
	}
	if err := readJSON(dir, "config.json", &config); err != nil {
		return nil, err
	}
	f.modelType, f.maxPositions = config.ModelType, config.MaxPositions

	var sbert struct {
		MaxSeqLength int `json:"max_seq_length"`
	}
	if err := readJSON(dir, "sentence_bert_config.json", &sbert); err != nil {
		return nil, err
	}
	f.maxSeqLength = sbert.MaxSeqLength

	var tokConfig struct {
		ModelMaxLength float64 `json:"model_max_length"`
	}
	if err := readJSON(dir, "tokenizer_config.json", &tokConfig); err != nil {
		return nil, err
	}
	if tokConfig.ModelMaxLength > 0 && tokConfig.ModelMaxLength < 1e6 { // "no limit" is written as 1e30
		f.modelMaxLen = int(tokConfig.ModelMaxLength)
	}

	var st struct {
		Prompts map[string]string `json:"prompts"`
	}
	if err := readJSON(dir, "config_sentence_transformers.json", &st); err != nil {
		return nil, err
	}
	f.queryPrompt = st.Prompts["query"]
	f.docPrompt = firstOf(st.Prompts["document"], st.Prompts["passage"])

	if err := f.readModules(); err != nil {
		return nil, err
	}
	return f, nil
}

// readModules follows modules.json to the Pooling module's configuration
// and notes a Normalize module.
func (f *folder) readModules() error {
	var modules []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	}
	if err := readJSON(f.dir, "modules.json", &modules); err != nil {
		return err
	}
	for _, m := range modules {
		switch {
		case strings.HasSuffix(m.Type, ".Normalize"):
			f.normalize = true
		case strings.HasSuffix(m.Type, ".Pooling"):
			name := filepath.ToSlash(filepath.Join(m.Path, "config.json"))
			var pc struct {
				CLS          bool `json:"pooling_mode_cls_token"`
				Mean         bool `json:"pooling_mode_mean_tokens"`
				Max          bool `json:"pooling_mode_max_tokens"`
				MeanSqrtLen  bool `json:"pooling_mode_mean_sqrt_len_tokens"`
				WeightedMean bool `json:"pooling_mode_weightedmean_tokens"`
				LastToken    bool `json:"pooling_mode_lasttoken"`
			}
			if _, err := os.Stat(filepath.Join(f.dir, name)); err != nil {
				return &FolderError{Dir: f.dir, File: name, Msg: "modules.json names a Pooling module whose configuration is missing", Err: err}
			}
			if err := readJSON(f.dir, name, &pc); err != nil {
				return err
			}
			f.pooling = Pooling{CLS: pc.CLS, Mean: pc.Mean, Max: pc.Max, MeanSqrtLen: pc.MeanSqrtLen, WeightedMean: pc.WeightedMean, LastToken: pc.LastToken}
			if f.pooling.none() {
				return &FolderError{Dir: f.dir, File: name, Msg: "no pooling_mode_* is true"}
			}
			f.hasPooling = true
		case strings.HasSuffix(m.Type, ".Dense"):
			return &FolderError{Dir: f.dir, File: "modules.json", Msg: "a Dense module after pooling is not supported; export the model with it included in the ONNX graph"}
		}
	}
	return nil
}

// maxTokens is how many tokens one input may have, special tokens
// included: what sentence-transformers would use, within what the
// position embeddings allow.
func (f *folder) maxTokens(tokenizerLimit int) int {
	n := firstPositive(f.maxSeqLength, tokenizerLimit, f.modelMaxLen, 512)
	if limit := f.positionLimit(); limit > 0 && n > limit {
		n = limit
	}
	return n
}

func (f *folder) positionLimit() int {
	if f.maxPositions <= 0 {
		return 0
	}
	switch f.modelType {
	case "roberta", "xlm-roberta", "camembert":
		// Position ids start after the padding index.
		return f.maxPositions - 2
	}
	return f.maxPositions
}

// findONNX picks the model file: the one named, else the usual places,
// else the only .onnx file in the folder.
func findONNX(dir, file string) (string, error) {
	if file != "" {
		clean := filepath.ToSlash(filepath.Clean(file))
		if filepath.IsAbs(file) || clean == ".." || strings.HasPrefix(clean, "../") {
			return "", &FolderError{Dir: dir, File: file, Msg: "the file option must name a file inside the model folder"}
		}
		if _, err := os.Stat(filepath.Join(dir, clean)); err != nil {
			return "", &FolderError{Dir: dir, File: clean, Msg: "missing", Err: err}
		}
		return clean, nil
	}
	for _, c := range ONNXCandidates {
		if _, err := os.Stat(filepath.Join(dir, c)); err == nil {
			return c, nil
		}
	}
	var found []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".onnx") {
			rel, _ := filepath.Rel(dir, path)
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	switch len(found) {
	case 0:
		return "", &FolderError{Dir: dir, File: "model.onnx", Msg: "missing; put the model's ONNX export there (or in onnx/model.onnx)"}
	case 1:
		return found[0], nil
	}
	return "", &FolderError{Dir: dir, Msg: fmt.Sprintf("several ONNX files (%s); choose one with ?file=NAME", strings.Join(found, ", "))}
}

// readJSON decodes dir/name into v; a missing file leaves v as it is.
func readJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &FolderError{Dir: dir, File: name, Msg: "cannot read", Err: err}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &FolderError{Dir: dir, File: name, Msg: "not valid JSON for this file", Err: err}
	}
	return nil
}

func firstPositive(ns ...int) int {
	for _, n := range ns {
		if n > 0 {
			return n
		}
	}
	return 0
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
