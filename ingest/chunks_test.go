package ingest

import (
	"strings"
	"testing"

	"github.com/distill-rag/distill/store"
)

func TestChunksMapChildrenToParents(t *testing.T) {
	splits := []store.Split{ // children listed first: Chunks must order them
		{Name: "children", Size: 400, Overlap: 200, Parent: "parents", Search: true},
		{Name: "chunks", Size: 1000, Overlap: 100, Search: true},
		{Name: "parents", Size: 2000, Overlap: 200},
	}
	var b strings.Builder
	for i := 0; b.Len() < 9000; i++ {
		b.WriteString("Sentence number ")
		b.WriteString(strings.Repeat("x", i%13))
		b.WriteString(" talks about cash flow and cloud revenue.")
		if i%7 == 6 {
			b.WriteString("\n\n")
		} else {
			b.WriteString(" ")
		}
	}
	text := b.String()
	chunks := Chunks(splits, text)
	count := map[string]int{}
	childrenOf := map[int]int{}
	for i, c := range chunks {
		count[c.Split]++
		if c.Start < 0 || c.End > len(text) || c.Start >= c.End {
			t.Fatalf("chunk %d has bad offsets [%d,%d)", i, c.Start, c.End)
		}
		size := map[string]int{"children": 400, "chunks": 1000, "parents": 2000}[c.Split]
		if n := len([]rune(text[c.Start:c.End])); n > size {
			t.Errorf("%s chunk %d has %d chars, over %d", c.Split, i, n, size)
		}
		switch c.Split {
		case "children":
			if c.Parent < 0 || c.Parent >= i || chunks[c.Parent].Split != "parents" {
				t.Fatalf("child %d has parent %d, want an earlier parents chunk", i, c.Parent)
			}
			p := chunks[c.Parent]
			if c.Start < p.Start || c.End > p.End {
				t.Errorf("child [%d,%d) outside its parent [%d,%d)", c.Start, c.End, p.Start, p.End)
			}
			childrenOf[c.Parent]++
		default:
			if c.Parent != -1 {
				t.Errorf("%s chunk %d has parent %d, want -1", c.Split, i, c.Parent)
			}
		}
	}
	for i, c := range chunks {
		if c.Split == "parents" && childrenOf[i] == 0 {
			t.Errorf("parent %d has no children", i)
		}
	}
	if count["parents"] < 4 || count["chunks"] < 9 || count["children"] < 2*count["parents"] {
		t.Errorf("split counts %v look wrong for %d bytes", count, len(text))
	}
}

func TestCheckSplits(t *testing.T) {
	tests := []struct {
		name   string
		splits []store.Split
		want   string
	}{
		{"ok", []store.Split{{Name: "a", Size: 10, Overlap: 2}, {Name: "b", Size: 5, Parent: "a"}}, ""},
		{"overlap too big", []store.Split{{Name: "a", Size: 10, Overlap: 10}}, "split a"},
		{"unknown parent", []store.Split{{Name: "b", Size: 5, Parent: "zz"}}, `"zz" does not exist`},
		{"cycle", []store.Split{{Name: "a", Size: 5, Parent: "b"}, {Name: "b", Size: 5, Parent: "a"}}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSplits(tt.splits)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckSplits = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
