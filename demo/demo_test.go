package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// letterServer answers the Amazon letter addresses with generated PDFs;
// the 2020 letter reprints the 1997 letter from page 3 on, as the real one
// does.
type letterServer struct {
	t     *testing.T
	pdfs  map[string][]byte
	calls int
}

func (s *letterServer) RoundTrip(r *http.Request) (*http.Response, error) {
	s.calls++
	data, ok := s.pdfs[r.URL.String()]
	status := http.StatusOK
	if !ok {
		status, data = http.StatusNotFound, []byte("not found")
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Body: io.NopCloser(bytes.NewReader(data)), Header: http.Header{}, Request: r}, nil
}

func newLetterServer(t *testing.T) *letterServer {
	dir := t.TempDir()
	s := &letterServer{t: t, pdfs: map[string][]byte{}}
	for i, u := range AmazonLetters {
		pages := []string{"To our shareowners: this is letter " + string(rune('A'+i)) + ".", "Second page of the letter."}
		if strings.Contains(u, "1997") {
			pages = append(pages, "1997 LETTER TO SHAREHOLDERS (Reprinted from the 1997 Annual Report)\n\nAmazon.com passed many milestones in 1997.", "More of the 1997 letter.")
		}
		path := testsupport.PDF(t, dir, filepath.Base(u), "", pages...)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s.pdfs[u] = data
	}
	return s
}

func TestPrepareOnlineDropsTheReprintedLetter(t *testing.T) {
	srv := newLetterServer(t)
	c, err := Prepare(context.Background(), t.TempDir(), true, &http.Client{Transport: srv})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "amazon" || len(c.Letters) != 4 || c.Note != "" {
		t.Fatalf("corpus = %s with %d letters (note %q), want the 4 Amazon letters", c.Name, len(c.Letters), c.Note)
	}
	if strings.Join(c.Questions, "|") != strings.Join(AmazonQuestions, "|") {
		t.Errorf("questions = %v, want the study's", c.Questions)
	}
	for _, l := range c.Letters {
		reprint := strings.Contains(l.Path, "1997")
		if reprint {
			if l.Pages.String() != "1-2" || !strings.Contains(l.Note, "pages 3-4") {
				t.Errorf("2020 letter keeps pages %q (note %q), want 1-2 with pages 3-4 skipped", l.Pages.String(), l.Note)
			}
		} else if l.Pages.String() != "" {
			t.Errorf("%s trims pages %q, want all", l.Path, l.Pages.String())
		}
	}
}

func TestPrepareFallsBackToBundled(t *testing.T) {
	srv := newLetterServer(t)
	delete(srv.pdfs, AmazonLetters[3])
	c, err := Prepare(context.Background(), t.TempDir(), true, &http.Client{Transport: srv})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "bundled" || !strings.Contains(c.Note, "404") || !strings.Contains(c.Note, "bundled") {
		t.Fatalf("corpus %s, note %q; want the bundled corpus and a note naming the failure", c.Name, c.Note)
	}
	if len(c.Letters) != 4 || len(c.Questions) == 0 {
		t.Fatalf("bundled corpus has %d letters, %d questions", len(c.Letters), len(c.Questions))
	}
	for _, l := range c.Letters {
		if _, err := os.Stat(l.Path); err != nil {
			t.Errorf("bundled letter %s was not written: %v", l.Path, err)
		}
	}
	// Offline never touches the network.
	calls := srv.calls
	if _, err := Prepare(context.Background(), t.TempDir(), false, &http.Client{Transport: srv}); err != nil || srv.calls != calls {
		t.Fatalf("offline Prepare: %v, %d requests", err, srv.calls-calls)
	}
}
