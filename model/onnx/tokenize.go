package onnx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/normalizer"
	"github.com/sugarme/tokenizer/pretrained"
)

// textTokenizer turns texts and text pairs into model inputs with a
// Hugging Face tokenizer.json. Truncation is done here rather than by the
// library, so that pairs are cut longest-first as Hugging Face does.
type textTokenizer struct {
	mu     sync.Mutex // the library does not promise concurrent use
	tk     *tokenizer.Tokenizer
	maxLen int // tokens per input, special tokens included
}

// tokens are one model input.
type tokens struct {
	ids, types []int
}

// loadTokenizer reads tokenizer.json and returns it with its own
// truncation length (0 if it has none).
func loadTokenizer(dir, file string) (t *textTokenizer, limit int, err error) {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		return nil, 0, &FolderError{Dir: dir, File: file, Msg: "cannot read", Err: err}
	}
	defer func() {
		// The library panics on files that are valid JSON of another shape.
		if r := recover(); r != nil {
			t, err = nil, &FolderError{Dir: dir, File: file, Msg: fmt.Sprintf("not a tokenizer this reader supports (%v)", r)}
		}
	}()
	tk, err := pretrained.FromReader(bytes.NewReader(b))
	if err != nil {
		return nil, 0, &FolderError{Dir: dir, File: file, Msg: "not a tokenizer this reader supports", Err: err}
	}
	if tr := tk.GetTruncation(); tr != nil {
		limit = tr.MaxLength
	}
	tk.WithTruncation(nil)
	tk.WithPadding(nil)
	if n := bertNormalizer(b); n != nil {
		tk.WithNormalizer(n)
	}
	return &textTokenizer{tk: tk}, limit, nil
}

// bertNormalizer redoes a BertNormalizer that strips accents (explicitly,
// or with strip_accents null and lowercase, as uncased BERT, BGE and
// MiniLM have it). Hugging Face decomposes characters (NFD) before
// dropping the combining marks; the library reads null as false and does
// not decompose, which would turn "Zürich" into an unknown word instead
// of "zurich".
func bertNormalizer(tokenizerJSON []byte) normalizer.Normalizer {
	var cfg struct {
		Normalizer *struct {
			Type               string `json:"type"`
			CleanText          bool   `json:"clean_text"`
			HandleChineseChars bool   `json:"handle_chinese_chars"`
			StripAccents       *bool  `json:"strip_accents"`
			Lowercase          bool   `json:"lowercase"`
		} `json:"normalizer"`
	}
	if json.Unmarshal(tokenizerJSON, &cfg) != nil || cfg.Normalizer == nil || cfg.Normalizer.Type != "BertNormalizer" {
		return nil
	}
	n := cfg.Normalizer
	strip := n.Lowercase
	if n.StripAccents != nil {
		strip = *n.StripAccents
	}
	if !strip {
		return nil
	}
	return normalizer.NewSequence([]normalizer.Normalizer{
		normalizer.NewNFD(),
		normalizer.NewBertNormalizer(n.CleanText, n.Lowercase, n.HandleChineseChars, true),
	})
}

// encode tokenizes one text, cut to maxLen tokens.
func (t *textTokenizer) encode(text string) (tokens, error) {
	return t.encodePair(text, nil)
}

// encodePair tokenizes a text, and a second one when b is not nil, as
// "[CLS] a [SEP] b [SEP]" (or the model's own template), removing tokens
// from the longer of the two until the pair fits.
func (t *textTokenizer) encodePair(a string, b *string) (out tokens, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tokenize: %v", r)
		}
	}()
	first, err := t.tk.EncodeSingleSequence(tokenizer.NewInputSequence(a), 0, tokenizer.Byte)
	if err != nil {
		return out, fmt.Errorf("tokenize: %w", err)
	}
	var second *tokenizer.Encoding
	if b != nil {
		if second, err = t.tk.EncodeSingleSequence(tokenizer.NewInputSequence(*b), 1, tokenizer.Byte); err != nil {
			return out, fmt.Errorf("tokenize: %w", err)
		}
	}
	added := 0
	if pp := t.tk.GetPostProcessor(); pp != nil {
		added = pp.AddedTokens(second != nil)
	}
	budget := max(t.maxLen-added, 2)
	na, nb := len(first.Ids), 0
	if second != nil {
		nb = len(second.Ids)
	}
	for na+nb > budget {
		if na > nb {
			na--
		} else {
			nb--
		}
	}
	// Keep at least one token of each part, as Hugging Face does.
	first = cut(first, max(na, 1))
	if second != nil {
		second = cut(second, max(nb, 1))
	}
	enc := t.tk.PostProcess(first, second, true)
	return tokens{ids: enc.Ids, types: enc.TypeIds}, nil
}

// cut keeps the first n tokens of e. The library's own Truncate also
// builds the overflowing parts, which nothing here uses.
func cut(e *tokenizer.Encoding, n int) *tokenizer.Encoding {
	if n >= len(e.Ids) {
		return e
	}
	c := *e
	c.Ids, c.TypeIds, c.Tokens = e.Ids[:n], e.TypeIds[:n], e.Tokens[:n]
	c.Offsets, c.SpecialTokenMask, c.AttentionMask = e.Offsets[:n], e.SpecialTokenMask[:n], e.AttentionMask[:n]
	if len(e.Words) >= n {
		c.Words = e.Words[:n]
	}
	c.Overflowing = nil
	return &c
}
