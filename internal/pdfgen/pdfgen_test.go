package pdfgen

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/loader"
)

func TestWriteRoundTripsThroughTheLoader(t *testing.T) {
	ctx := context.Background()
	pages := []string{
		"First page — Ünïcödé in Saint-Étienne costs €100.\nSecond line.",
		"Ελληνικά και кириллица on page two. " + strings.Repeat("word ", 40),
	}
	data, err := Write(ctx, pages, Options{Title: "Générée"})
	if err != nil {
		t.Fatal(err)
	}
	doc := document.Document{Source: "gen.pdf"}
	var got []document.Page
	err = loader.Load(ctx, loader.PDF, bytes.NewReader(data), int64(len(data)), &doc, loader.Options{}, func(p document.Page) error {
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "Générée" {
		t.Errorf("title = %q", doc.Title)
	}
	if len(got) != 2 {
		t.Fatalf("got %d pages", len(got))
	}
	for i, p := range got {
		if p.Number != i+1 {
			t.Errorf("page %d numbered %d", i+1, p.Number)
		}
		want := strings.Join(strings.Fields(pages[i]), " ")
		if have := strings.Join(strings.Fields(p.Text), " "); have != want {
			t.Errorf("page %d text = %q, want %q", i+1, have, want)
		}
	}
}
