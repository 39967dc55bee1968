package eval

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Dataset is a BEIR-format benchmark: a corpus, queries, and the graded
// judgments of one split (usually "test").
type Dataset struct {
	Name       string // the directory's name, e.g. "nfcorpus"
	Dir        string
	Split      string
	CorpusHash string // hex SHA-256 of corpus.jsonl
	Corpus     []CorpusDoc
	// QueryIDs are the queries with judgments in the split, in the order
	// the qrels file first names them.
	QueryIDs []string
	Queries  map[string]string // id to text, for QueryIDs
	Qrels    map[string]Judgments
	Skipped  Skipped
}

// CorpusDoc is one document of a BEIR corpus.
type CorpusDoc struct {
	ID    string
	Title string
	Text  string
}

// LoadOptions shape reading a data set.
type LoadOptions struct {
	// Split names the qrels file (qrels/SPLIT.tsv); empty means "test".
	Split string
	// Strict fails on the first bad line instead of skipping and counting it.
	Strict bool
}

// LoadBEIR reads corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv from dir.
// Bad lines (malformed JSON, missing ids, duplicate ids, judgments naming
// unknown documents or queries) fail with file and line when Strict, and
// are otherwise skipped and counted in Dataset.Skipped.
func LoadBEIR(ctx context.Context, dir string, opts LoadOptions) (*Dataset, error) {
	if opts.Split == "" {
		opts.Split = "test"
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil, &DataError{File: dir, Msg: "is not a directory holding a BEIR data set (corpus.jsonl, queries.jsonl, qrels/)"}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Name: filepath.Base(abs), Dir: abs, Split: opts.Split, Queries: map[string]string{}, Qrels: map[string]Judgments{}}
	docs := map[string]bool{}
	if err := ds.readCorpus(ctx, dir, opts.Strict, docs); err != nil {
		return nil, err
	}
	queries, err := ds.readQueries(ctx, dir, opts.Strict)
	if err != nil {
		return nil, err
	}
	if err := ds.readQrels(ctx, dir, opts.Strict, docs, queries); err != nil {
		return nil, err
	}
	return ds, nil
}

func (ds *Dataset) lines(path, shown string, strict bool, each func(lr *lineReader, line string) error) error {
	f, err := openData(path, shown)
	if err != nil {
		return err
	}
	defer f.Close()
	lr := &lineReader{file: shown, r: bufio.NewReaderSize(f, 1<<20), strict: strict, skipped: &ds.Skipped}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := each(lr, line); err != nil {
			return err
		}
	}
}

type jsonLine struct {
	ID    json.RawMessage `json:"_id"`
	Title string          `json:"title"`
	Text  string          `json:"text"`
}

// id reads an _id that is a JSON string or number (some BEIR sets use both).
func (l *jsonLine) id() (string, bool) {
	var s string
	if json.Unmarshal(l.ID, &s) == nil {
		return s, s != ""
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(l.ID))
	d.UseNumber()
	if d.Decode(&n) == nil {
		return n.String(), true
	}
	return "", false
}

func (ds *Dataset) readCorpus(ctx context.Context, dir string, strict bool, docs map[string]bool) error {
	path := filepath.Join(dir, "corpus.jsonl")
	h := sha256.New()
	err := ds.lines(path, path, strict, func(lr *lineReader, line string) error {
		h.Write([]byte(line))
		h.Write([]byte{'\n'})
		if lr.line%1000 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var l jsonLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return lr.bad("not a JSON object: %v", jsonReason(err))
		}
		id, ok := l.id()
		switch {
		case !ok:
			return lr.bad(`no "_id"`)
		case docs[id]:
			return lr.bad("document %q appears twice", id)
		case strings.TrimSpace(l.Title+l.Text) == "":
			return lr.bad("document %q has no title or text", id)
		}
		docs[id] = true
		ds.Corpus = append(ds.Corpus, CorpusDoc{ID: id, Title: l.Title, Text: l.Text})
		return nil
	})
	if err != nil {
		return err
	}
	if len(ds.Corpus) == 0 {
		return &DataError{File: path, Msg: "holds no documents"}
	}
	ds.CorpusHash = hex.EncodeToString(h.Sum(nil))
	return nil
}

func (ds *Dataset) readQueries(ctx context.Context, dir string, strict bool) (map[string]string, error) {
	path := filepath.Join(dir, "queries.jsonl")
	queries := map[string]string{}
	err := ds.lines(path, path, strict, func(lr *lineReader, line string) error {
		var l jsonLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return lr.bad("not a JSON object: %v", jsonReason(err))
		}
		id, ok := l.id()
		switch {
		case !ok:
			return lr.bad(`no "_id"`)
		case queries[id] != "":
			return lr.bad("query %q appears twice", id)
		case strings.TrimSpace(l.Text) == "":
			return lr.bad("query %q has no text", id)
		}
		queries[id] = l.Text
		return nil
	})
	return queries, err
}

func (ds *Dataset) readQrels(ctx context.Context, dir string, strict bool, docs map[string]bool, queries map[string]string) error {
	path := filepath.Join(dir, "qrels", ds.Split+".tsv")
	err := ds.lines(path, path, strict, func(lr *lineReader, line string) error {
		f := strings.Split(line, "\t")
		if len(f) == 1 {
			f = strings.Fields(line)
		}
		if len(f) != 3 {
			return lr.bad("want 3 tab-separated fields (query-id, corpus-id, score), got %d", len(f))
		}
		qid, did := strings.TrimSpace(f[0]), strings.TrimSpace(f[1])
		grade, err := strconv.Atoi(strings.TrimSpace(f[2]))
		if err != nil {
			if lr.line == 1 {
				return nil // the header
			}
			return lr.bad("score %q is not an integer", f[2])
		}
		switch {
		case queries[qid] == "":
			return lr.bad("query %q is not in queries.jsonl", qid)
		case !docs[did]:
			return lr.bad("document %q is not in corpus.jsonl", did)
		}
		j := ds.Qrels[qid]
		if j == nil {
			j = Judgments{}
			ds.Qrels[qid] = j
			ds.QueryIDs = append(ds.QueryIDs, qid)
			ds.Queries[qid] = queries[qid]
		}
		j[did] = grade
		return nil
	})
	if err != nil {
		return err
	}
	if len(ds.QueryIDs) == 0 {
		return &DataError{File: path, Msg: "judges no queries"}
	}
	return nil
}

// jsonReason shortens encoding/json's messages.
func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return err.Error()
}
