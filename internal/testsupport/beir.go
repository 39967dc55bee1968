package testsupport

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BEIRDoc is one corpus document of a generated BEIR data set.
type BEIRDoc struct {
	ID, Title, Text string
}

// BEIRQrel is one judgment: query, document, grade.
type BEIRQrel struct {
	Query, Doc string
	Grade      int
}

// BEIR writes a BEIR-format data set (corpus.jsonl, queries.jsonl,
// qrels/test.tsv with its header) into dir and returns dir.
func BEIR(t testing.TB, dir string, docs []BEIRDoc, queries [][2]string, qrels []BEIRQrel) string {
	t.Helper()
	var corpus, qs, rels strings.Builder
	for _, d := range docs {
		line, _ := json.Marshal(map[string]string{"_id": d.ID, "title": d.Title, "text": d.Text})
		corpus.Write(line)
		corpus.WriteByte('\n')
	}
	for _, q := range queries {
		line, _ := json.Marshal(map[string]any{"_id": q[0], "text": q[1], "metadata": map[string]string{}})
		qs.Write(line)
		qs.WriteByte('\n')
	}
	rels.WriteString("query-id\tcorpus-id\tscore\n")
	for _, r := range qrels {
		fmt.Fprintf(&rels, "%s\t%s\t%d\n", r.Query, r.Doc, r.Grade)
	}
	Write(t, dir, "corpus.jsonl", []byte(corpus.String()))
	Write(t, dir, "queries.jsonl", []byte(qs.String()))
	Write(t, dir, filepath.Join("qrels", "test.tsv"), []byte(rels.String()))
	return dir
}

// TinyBEIR writes a small data set whose queries each match one document
// by distinctive words: q1 → d1 (grade 2) and d2 (grade 1), q2 → d3, q3 → d5.
func TinyBEIR(t testing.TB, dir string) string {
	t.Helper()
	docs := []BEIRDoc{
		{"d1", "Statins and breast cancer", "Statin drugs lower cholesterol. In a cohort of breast cancer patients, statin users had lower mortality from breast cancer."},
		{"d2", "Cholesterol in the diet", "Dietary cholesterol from eggs raises blood cholesterol a little; statins lower it further."},
		{"d3", "Freight railways", "The railway moved more freight by tonnage than ever, with locomotives running on diesel across the plains."},
		{"d4", "Insurance float", "An insurer collects premiums before it pays claims; the money held meanwhile is called float."},
		{"d5", "Volcanoes of Iceland", "Iceland sits on a rift where basalt lava erupts from fissures, building new crust every year."},
		{"d6", "Chess openings", "The Sicilian defence answers the king's pawn with the c-pawn and leads to sharp positions."},
	}
	queries := [][2]string{
		{"q1", "Do statins lower breast cancer mortality?"},
		{"q2", "How much freight did the railway move?"},
		{"q3", "Why does lava erupt in Iceland?"},
		{"q4", "An unjudged query about chess"},
	}
	qrels := []BEIRQrel{{"q1", "d1", 2}, {"q1", "d2", 1}, {"q2", "d3", 1}, {"q3", "d5", 1}}
	return BEIR(t, dir, docs, queries, qrels)
}
