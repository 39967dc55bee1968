package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/distill-rag/distill/internal/testsupport"
)

// chromium returns the path of a Chromium to drive, skipping the test when
// there is none unless DISTILL_REQUIRE_CHROMIUM=1 (CI installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DISTILL_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no chromium on PATH, and DISTILL_REQUIRE_CHROMIUM=1")
	}
	t.Skip("no chromium on PATH (set DISTILL_REQUIRE_CHROMIUM=1 to fail instead)")
	return ""
}

// TestPageInBrowser drives the web page in headless Chromium: upload a
// PDF, ask, and see every technique's answer with a highlighted source.
// The screenshot is kept in testdata/artifacts/server-page.png.
func TestPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	exe := chromium(t)
	e := start(t)
	pdf := testsupport.PDF(t, t.TempDir(), "alpha-2022.pdf", "Alpha Widgets 2022", testsupport.Letters["alpha-2022.pdf"]...)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("headless", "new"), chromedp.WindowSize(1400, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute) // a guard against a hung browser, not a speed test
	defer cancel()

	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(css(`#techniques input[value="parent"]`)),
		chromedp.SetUploadFiles(css(`#file`), []string{pdf}),
		chromedp.WaitVisible(css(`#docs li[data-doc="alpha-2022.pdf"]`)),
		chromedp.SendKeys(css(`#question`), "What did Alpha Widgets acquire in 2022?"),
		chromedp.Click(css(`#ask`)),
		chromedp.WaitVisible(css(`.result[data-technique="filter"] .costs .bar`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	status := text(`#upload-status`)
	answer := text(`.result[data-technique="parent"] .answer`)
	where := text(`.result[data-technique="parent"] .source.cited .where`)
	marked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('.result[data-technique="parent"] .source.cited mark')].map((m) => m.textContent).join(" | ")`))
	if err != nil {
		t.Fatal(err)
	}
	costs := text(`.result[data-technique="parent"] .costs`)
	cards, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".result").length`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "added: alpha-2022.pdf") {
		t.Errorf("upload status %q", status)
	}
	if cards != 4 {
		t.Errorf("%d answers side by side, want one per technique (4)", cards)
	}
	if !strings.Contains(answer, "Borealis Optics") || !strings.Contains(answer, "[1]") {
		t.Errorf("answer %q", answer)
	}
	if where != "alpha-2022.pdf, page 1" {
		t.Errorf("cited source %q", where)
	}
	if !strings.Contains(marked, "Borealis Optics") {
		t.Errorf("highlighted passage %q", marked)
	}
	for _, want := range []string{"LLM calls", "tokens", "context", "latency", " ch"} {
		if !strings.Contains(costs, want) {
			t.Errorf("costs %q lack %s", costs, want)
		}
	}
	dir := filepath.Join(testsupport.RepoRoot(), "testdata", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		os.WriteFile(filepath.Join(dir, "server-page.png"), shot, 0o644)
	}
}
