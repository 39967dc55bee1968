package mcpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/mcpserver"
)

func TestToolsWhere(t *testing.T) {
	eng := openEngine(t)
	ctx := context.Background()
	for _, d := range []struct{ name, year, text string }{
		{"lanterns-2020.md", "2020", "Lantern sales were slow in 2020; a few lanterns sold."},
		{"lanterns-2024.md", "2024", "Lanterns, lanterns, lanterns: lantern sales of lanterns boomed."},
	} {
		if _, err := eng.IngestText(ctx, d.name, d.text, ingest.Options{Meta: map[string]string{"year": d.year}}); err != nil {
			t.Fatal(err)
		}
	}
	cs := connect(t, eng, false)
	var all, found mcpserver.SearchResult
	call(t, cs, "search", map[string]any{"question": "lantern sales", "technique": "regular"}, &all)
	if len(all.Contexts) == 0 || all.Contexts[0].Source != "lanterns-2024.md" {
		t.Fatalf("unfiltered: %+v", all.Contexts)
	}
	if msg := call(t, cs, "search", map[string]any{"question": "lantern sales", "technique": "regular", "where": []string{"year<2024"}}, &found); msg != "" {
		t.Fatal(msg)
	}
	if len(found.Contexts) == 0 {
		t.Fatal("year<2024: no contexts")
	}
	for _, c := range found.Contexts {
		if c.Source != "lanterns-2020.md" {
			t.Fatalf("year<2024 returned %s", c.Source)
		}
	}
	var ans mcpserver.AskResult
	if msg := call(t, cs, "ask", map[string]any{"question": "How were lantern sales?", "technique": "regular", "where": []string{"source~*2020*"}}, &ans); msg != "" {
		t.Fatal(msg)
	}
	for _, c := range ans.Contexts {
		if c.Source != "lanterns-2020.md" {
			t.Fatalf("ask where source~*2020* returned %s", c.Source)
		}
	}
	for _, tc := range []struct {
		tool  string
		where []string
		want  string
	}{
		{"search", []string{"year"}, `where: filter "year": has no operator`},
		{"ask", []string{"year>soon"}, `compares with > "soon"`},
		{"search", []string{"colour=red"}, `key "colour" is not a key of any document`},
		{"ask", []string{"colour=red"}, `key "colour" is not a key of any document`},
	} {
		msg := call(t, cs, tc.tool, map[string]any{"question": "lanterns", "technique": "regular", "where": tc.where}, nil)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s where %v: error %q, want %q", tc.tool, tc.where, msg, tc.want)
		}
	}
}
