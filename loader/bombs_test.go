package loader_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport"
	. "github.com/distill-rag/distill/loader"
)

// The bombs are read in a child process (this test binary re-executed with
// bombChildEnv set), so that its peak RSS (VmHWM) is the bomb's alone.
const bombChildEnv = "DISTILL_LOADER_BOMB_CHILD"

// Peak-memory bounds the children must stay under, with the limits they
// set. The PDF child's PDFium instance may grow to 256 MiB of wasm memory;
// wazero grows it by copying and the old copies wait for the GC, so the
// process peaks near 4x that (949 MiB measured), not at the 9.5 GB that
// the same bomb took without a limit.
const (
	pdfBombPeak = 4*256<<20 + 200<<20
	zipBombPeak = 300 << 20
)

// writeFlateBombPDF writes a one-page PDF whose content stream is the
// FlateDecode of inflated bytes of spaces; the inflated bytes are streamed
// through the compressor, so only the compressed stream is held.
func writeFlateBombPDF(t testing.TB, path string, inflated int64) {
	t.Helper()
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestCompression)
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for n := int64(0); n < inflated; n += int64(len(chunk)) {
		fw.Write(chunk[:min(int64(len(chunk)), inflated-n)])
	}
	fw.Close()
	// zlib wrapper: PDF's FlateDecode is zlib (RFC 1950).
	stream := append([]byte{0x78, 0xDA}, z.Bytes()...)
	stream = append(stream, 0, 0, 0, 0) // adler32 left wrong; PDFium does not need it
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n")
	var offsets []int
	obj := func(body string, data []byte) {
		offsets = append(offsets, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n%s", len(offsets), body)
		if data != nil {
			out.WriteString("\nstream\n")
			out.Write(data)
			out.WriteString("\nendstream")
		}
		out.WriteString("\nendobj\n")
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", nil)
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>", nil)
	obj(fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>", len(stream)), stream)
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeZipBomb writes a docx whose word/document.xml inflates to inflated
// bytes, streamed through the compressor.
func writeZipBomb(t testing.TB, path string, inflated int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	zw := zip.NewWriter(bw)
	w, _ := zw.Create("[Content_Types].xml")
	w.Write([]byte(`<Types/>`))
	w, _ = zw.Create("word/document.xml")
	chunk := bytes.Repeat([]byte("<w:t>a</w:t>"), 1<<16)
	for n := int64(0); n < inflated; n += int64(len(chunk)) {
		w.Write(chunk)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
}

type bombResult struct {
	Err     string
	Limit   string
	Page    int
	PeakRSS int64
}

// runBombChild re-executes the test binary to run test with kind, and
// returns what the child reported.
func runBombChild(t *testing.T, test, kind string) bombResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), bombChildEnv+"="+kind, "DISTILL_CACHE_DIR="+CacheDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if j, ok := strings.CutPrefix(line, "BOMB "); ok {
			var r bombResult
			if err := json.Unmarshal([]byte(j), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("child reported nothing:\n%s", out)
	return bombResult{}
}

// childReport loads path in the child and prints the result with the peak RSS.
func childReport(t *testing.T, path string, opts Options) {
	err := LoadFile(context.Background(), path, &document.Document{Source: path}, opts, func(document.Page) error { return nil })
	r := bombResult{PeakRSS: peakRSS(t)}
	if err != nil {
		r.Err = err.Error()
	}
	var lim *LimitError
	if errors.As(err, &lim) {
		r.Limit, r.Page = lim.Limit, lim.Page
	}
	j, _ := json.Marshal(r)
	fmt.Printf("BOMB %s\n", j)
}

// peakRSS reads the process's peak resident set (VmHWM) in bytes.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func TestPDFFlateBombRefused(t *testing.T) {
	if kind := os.Getenv(bombChildEnv); kind != "" {
		if kind != "pdf" {
			t.Skip()
		}
		path := filepath.Join(t.TempDir(), "bomb.pdf")
		writeFlateBombPDF(t, path, 512<<20) // 512 MiB of spaces
		childReport(t, path, Options{PDFMemory: 256 << 20})
		return
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to measure peak memory")
	}
	if testing.Short() || raceEnabled {
		t.Skip("builds a 512 MiB bomb; the race detector multiplies memory")
	}
	r := runBombChild(t, "TestPDFFlateBombRefused", "pdf")
	t.Logf("child: %+v", r)
	if r.Limit != LimitPDFMemory || r.Page != 1 || !strings.Contains(r.Err, "bomb.pdf: page 1") || !strings.Contains(r.Err, "Options.PDFMemory") {
		t.Fatalf("got %+v, want the %s limit on page 1 of bomb.pdf", r, LimitPDFMemory)
	}
	if r.PeakRSS > pdfBombPeak {
		t.Fatalf("peak RSS %d MiB, over the bound of %d MiB", r.PeakRSS>>20, pdfBombPeak>>20)
	}
}

func TestZipBombPeakMemory(t *testing.T) {
	if kind := os.Getenv(bombChildEnv); kind != "" {
		if kind != "zip" {
			t.Skip()
		}
		path := filepath.Join(t.TempDir(), "bomb.docx")
		writeZipBomb(t, path, 512<<20) // 512 MiB of XML
		childReport(t, path, Options{ZipInflated: 64 << 20})
		return
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to measure peak memory")
	}
	if testing.Short() || raceEnabled {
		t.Skip("builds a 512 MiB bomb; the race detector multiplies memory")
	}
	r := runBombChild(t, "TestZipBombPeakMemory", "zip")
	t.Logf("child: %+v", r)
	if r.Limit != LimitZipInflated || !strings.Contains(r.Err, "bomb.docx") || !strings.Contains(r.Err, "Options.ZipInflated") {
		t.Fatalf("got %+v, want the %s limit on bomb.docx", r, LimitZipInflated)
	}
	if r.PeakRSS > zipBombPeak {
		t.Fatalf("peak RSS %d MiB, over the bound of %d MiB", r.PeakRSS>>20, zipBombPeak>>20)
	}
}

func TestPDFLimits(t *testing.T) {
	if os.Getenv(bombChildEnv) != "" {
		t.Skip()
	}
	dir := t.TempDir()
	texts := make([]string, 40)
	for i := range texts {
		texts[i] = fmt.Sprintf("Section %d: %s.", i+1, strings.Repeat(fmt.Sprintf("w%dx ", i*7), 1+i%5))
	}
	path := filepath.Join(dir, "normal.pdf")
	os.WriteFile(path, testsupport.MinimalPDF(texts...), 0o600)
	for _, tc := range []struct {
		name  string
		opts  Options
		limit string
		page  int
	}{
		{"defaults", Options{}, "", 0},
		{"page text", Options{PageText: 10}, LimitPageText, 1},
		{"document text", Options{DocumentText: 200}, LimitDocumentText, -1},
		{"page time", Options{PageTime: 1}, LimitPageTime, -1},
		{"document time", Options{DocumentTime: 1}, LimitDocumentTime, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			err := LoadFile(context.Background(), path, &document.Document{Source: path}, tc.opts, func(document.Page) error { n++; return nil })
			if tc.limit == "" {
				if err != nil || n != len(texts) {
					t.Fatalf("err = %v, %d pages; want %d pages", err, n, len(texts))
				}
				return
			}
			var lim *LimitError
			if !errors.As(err, &lim) || lim.Limit != tc.limit || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want the %s limit naming %s", err, tc.limit, path)
			}
			if tc.page >= 0 && lim.Page != tc.page || tc.page < 0 && tc.limit != LimitDocumentTime && lim.Page < 1 {
				t.Fatalf("page %d, want %d", lim.Page, tc.page)
			}
		})
	}
	// The pool still works after instances were killed.
	if err := LoadFile(context.Background(), path, &document.Document{Source: path}, Options{}, func(document.Page) error { return nil }); err != nil {
		t.Fatalf("after the limits: %v", err)
	}
}
