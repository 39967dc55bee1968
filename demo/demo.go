// Package demo prepares the sample corpus for `distill demo`: the four
// Amazon shareholder letters (2019 to 2022) that the original study used,
// downloaded from their public addresses, or, offline, a bundled set of
// fictional shareholder letters (CC0) rendered to PDF. Either way the
// reprinted founding letter at the end of some letters is dropped, as the
// study dropped Amazon's reprinted 1997 letter.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/pdfgen"
	"github.com/distill-rag/distill/loader"
)

//go:embed corpus
var corpus embed.FS

// Letter is one file of the corpus and the pages to ingest from it.
type Letter struct {
	Path  string
	Pages loader.PageRange // empty: all
	Note  string           // e.g. "pages 8-11 reprint the 1997 letter"
}

// Corpus is a prepared sample corpus.
type Corpus struct {
	Name      string // "amazon" or "bundled"
	Letters   []Letter
	Questions []string
	Note      string // why the bundled corpus was used, when it was
}

// AmazonLetters are the public addresses of the letters the study used.
var AmazonLetters = []string{
	"https://s2.q4cdn.com/299287126/files/doc_financials/2020/ar/2019-Shareholder-Letter.pdf",
	"https://s2.q4cdn.com/299287126/files/doc_financials/2021/ar/Amazon-2020-Shareholder-Letter-and-1997-Shareholder-Letter.pdf",
	"https://s2.q4cdn.com/299287126/files/doc_financials/2022/ar/2021-Shareholder-Letter.pdf",
	"https://s2.q4cdn.com/299287126/files/doc_financials/2023/ar/2022-Shareholder-Letter.pdf",
}

// AmazonQuestions are the questions of the original study.
var AmazonQuestions = []string{
	"How did AWS evolve?",
	"Why is Amazon successful?",
	"What are the key highlights of 2022?",
	"What did the CEO say about long-term thinking?",
}

// Prepare writes the corpus into dir: the Amazon letters when online is
// set and they can all be downloaded, else the bundled letters.
func Prepare(ctx context.Context, dir string, online bool, client *http.Client) (*Corpus, error) {
	if online {
		c, err := downloadAmazon(ctx, dir, client)
		if err == nil {
			return c, nil
		}
		b, berr := Bundled(ctx, dir)
		if berr != nil {
			return nil, berr
		}
		b.Note = "could not download the Amazon letters (" + err.Error() + "); using the bundled letters"
		return b, nil
	}
	return Bundled(ctx, dir)
}

func downloadAmazon(ctx context.Context, dir string, client *http.Client) (*Corpus, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	c := &Corpus{Name: "amazon", Questions: AmazonQuestions}
	for _, u := range AmazonLetters {
		path := filepath.Join(dir, filepath.Base(u))
		if err := download(ctx, client, u, path); err != nil {
			return nil, err
		}
		l, err := letter(ctx, path)
		if err != nil {
			return nil, err
		}
		c.Letters = append(c.Letters, l)
	}
	return c, nil
}

func download(ctx context.Context, client *http.Client, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "distill-demo")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return fmt.Errorf("GET %s: not a PDF", url)
	}
	return os.WriteFile(path, data, 0o644)
}

// letter finds the reprinted letter in a PDF, if any, and keeps the pages
// before it.
func letter(ctx context.Context, path string) (Letter, error) {
	l := Letter{Path: path}
	doc := document.Document{Source: path}
	first := 0
	total := 0
	err := loader.LoadFile(ctx, path, &doc, loader.Options{}, func(p document.Page) error {
		total = p.Number
		head := strings.ToLower(p.Text)
		if len(head) > 400 {
			head = head[:400]
		}
		if first == 0 && p.Number > 1 && strings.Contains(head, "reprinted from the") {
			first = p.Number
		}
		return nil
	})
	if err != nil {
		return l, err
	}
	if first > 1 {
		r, err := loader.ParsePageRange(fmt.Sprintf("1-%d", first-1))
		if err != nil {
			return l, err
		}
		l.Pages = r
		if first == total {
			l.Note = fmt.Sprintf("page %d reprints an earlier letter and is skipped", first)
		} else {
			l.Note = fmt.Sprintf("pages %d-%d reprint an earlier letter and are skipped", first, total)
		}
	}
	return l, nil
}

// Bundled renders the bundled letters to PDFs in dir.
func Bundled(ctx context.Context, dir string) (*Corpus, error) {
	c := &Corpus{Name: "bundled"}
	entries, err := corpus.ReadDir("corpus")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "letter-") || !strings.HasSuffix(name, ".md") {
			continue
		}
		src, err := corpus.ReadFile("corpus/" + name)
		if err != nil {
			return nil, err
		}
		title, pages := PagesOf(string(src))
		pdf, err := pdfgen.Write(ctx, pages, pdfgen.Options{Title: title})
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", name, err)
		}
		path := filepath.Join(dir, strings.TrimSuffix(name, ".md")+".pdf")
		if err := os.WriteFile(path, pdf, 0o644); err != nil {
			return nil, err
		}
		l, err := letter(ctx, path)
		if err != nil {
			return nil, err
		}
		c.Letters = append(c.Letters, l)
	}
	qs, err := corpus.ReadFile("corpus/questions.txt")
	if err != nil {
		return nil, err
	}
	c.Questions = lines(string(qs))
	return c, nil
}

// PagesOf turns a bundled Markdown letter into page texts: pages are
// separated by "<!-- page -->" lines, and Markdown heading marks are
// dropped as a printed letter would show them. The title is the first
// heading.
func PagesOf(md string) (title string, pages []string) {
	for _, page := range strings.Split(md, "<!-- page -->") {
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSpace(page), "\n") {
			if strings.HasPrefix(line, "#") {
				line = strings.TrimSpace(strings.TrimLeft(line, "#"))
				if title == "" {
					title = line
				}
			}
			b.WriteString(line)
			b.WriteString("\n")
		}
		pages = append(pages, strings.TrimSpace(b.String()))
	}
	return title, pages
}

// QA returns the bundled question-answer set (JSON lines).
func QA() []byte {
	b, _ := corpus.ReadFile("corpus/qa.jsonl")
	return b
}

// Files returns a bundled file by name (letters, questions.txt, LICENSE).
func Files(name string) ([]byte, error) { return corpus.ReadFile("corpus/" + name) }

func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
