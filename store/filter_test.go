package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseFilter(t *testing.T) {
	doc := DocumentInfo{ID: "d1", Source: "letters/2021/ceo.pdf", Type: "pdf",
		Meta: map[string]string{"year": "2021", "dept": "legal", "signed": "2021-03-04"}, Ingested: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		expr    string
		match   bool
		errPart string // non-empty: a parse error containing it
	}{
		{expr: "year=2021", match: true},
		{expr: "year=2021.0", match: true},
		{expr: "year=2020", match: false},
		{expr: "year!=2020", match: true},
		{expr: "year!=2021", match: false},
		{expr: "year>=2021", match: true},
		{expr: "year>2021", match: false},
		{expr: "year<=2021", match: true},
		{expr: "year<2022", match: true},
		{expr: "year<2021", match: false},
		{expr: "signed>2021-01-01", match: true},
		{expr: "signed<2021-03-04", match: false},
		{expr: "ingested>=2026-04-30", match: true},
		{expr: "ingested<2026-04-30", match: false},
		{expr: "source~*/2021/*", match: true},
		{expr: "source~letters/*.pdf", match: true},
		{expr: "source~*.docx", match: false},
		{expr: "source~letters/202[01]/ceo.pdf", match: true},
		{expr: "type=pdf", match: true},
		{expr: "doc_id=d1", match: true},
		{expr: "missing!=x", match: true},
		{expr: "missing=x", match: false},
		{expr: " dept = legal ", match: true},
		{expr: "year", errPart: "has no operator"},
		{expr: "=2021", errPart: "has no key"},
		{expr: "year>soon", errPart: `neither a number nor an ISO date`},
		{expr: "ingested>5", errPart: "is a date"},
		{expr: "page=one", errPart: "is a number"},
		{expr: "source~[abc", errPart: "malformed glob"},
		{expr: "ye ar=1", errPart: "not a valid key"},
		{expr: "year!2021", errPart: "'!' must be followed"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := ParseFilter([]string{tc.expr})
			if tc.errPart != "" {
				var fe *FilterError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.errPart) || fe.Expr != tc.expr {
					t.Fatalf("ParseFilter(%q) = %v, want a *FilterError naming the expression with %q", tc.expr, err, tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.MatchDocument(doc); got != tc.match {
				t.Errorf("%q matches %v, want %v", tc.expr, got, tc.match)
			}
		})
	}
}

func TestFilterPageAndAnd(t *testing.T) {
	f, err := ParseFilter([]string{"page>=2", "page<4", "year=2021"})
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]bool{1: false, 2: true, 3: true, 4: false} {
		if f.MatchPage(n) != want {
			t.Errorf("page %d: got %v", n, !want)
		}
	}
	if !f.HasPage() {
		t.Error("HasPage = false")
	}
	if f.MatchDocument(DocumentInfo{Meta: map[string]string{"year": "2020"}}) {
		t.Error("AND: year=2020 passed year=2021")
	}
	if !f.MatchDocument(DocumentInfo{Meta: map[string]string{"year": "2021"}}) {
		t.Error("page conditions must not apply to documents")
	}
}

func TestFilterCheckUnknownKey(t *testing.T) {
	f, _ := ParseFilter([]string{"year=2021", "colour=red"})
	err := f.Check([]DocumentInfo{{Meta: map[string]string{"year": "2021"}}})
	var fe *FilterError
	if !errors.As(err, &fe) || fe.Key != "colour" || !strings.Contains(err.Error(), `"colour"`) {
		t.Fatalf("Check = %v, want a FilterError naming colour", err)
	}
	f, _ = ParseFilter([]string{"year=2021", "page=1", "source~x"})
	if err := f.Check([]DocumentInfo{{Meta: map[string]string{"year": "2021"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestFilterContext(t *testing.T) {
	ctx := context.Background()
	if FilterFrom(WithFilter(ctx, nil)) != nil {
		t.Fatal("nil filter set")
	}
	f, _ := ParseFilter([]string{"a=b"})
	if FilterFrom(WithFilter(ctx, f)) != f {
		t.Fatal("filter lost")
	}
}
