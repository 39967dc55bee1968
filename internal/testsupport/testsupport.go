// Package testsupport holds what tests across distill share: generated
// documents (PDFs, text, HTML) with known content, broken and hostile
// inputs, and helpers to build the distill binary. Later model work adds
// fake model servers here.
package testsupport

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/distill-rag/distill/internal/pdfgen"
)

// PDF writes a PDF with the given pages into dir/name and returns its path.
func PDF(t testing.TB, dir, name, title string, pages ...string) string {
	t.Helper()
	data, err := pdfgen.Write(context.Background(), pages, pdfgen.Options{Title: title})
	if err != nil {
		t.Fatalf("generate %s: %v", name, err)
	}
	return Write(t, dir, name, data)
}

// Write writes data into dir/name (creating directories) and returns the path.
func Write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// EncryptedPDF is a minimal PDF with a standard security handler whose user
// password is not empty, so no reader can open it without the password.
func EncryptedPDF() []byte {
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
		"<< /Filter /Standard /V 1 /R 2 /O <" + strings.Repeat("4f", 32) + "> /U <" + strings.Repeat("a5", 32) + "> /P -4 >>",
	}
	return assemble(objects, "/Root 1 0 R /Encrypt 4 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]")
}

// BlankPDF is a valid PDF with pages that hold no text (as a scan would).
func BlankPDF() []byte {
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
	}
	return assemble(objects, "/Root 1 0 R")
}

// CorruptPDF is the first part of a real PDF, cut off.
func CorruptPDF(t testing.TB) []byte {
	t.Helper()
	data, err := pdfgen.Write(context.Background(), []string{"This text will be cut off."}, pdfgen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return data[:len(data)/3]
}

// assemble writes objects with a correct cross-reference table.
func assemble(objects []string, trailer string) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, trailer, xref)
	return []byte(b.String())
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/distill once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "distill-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "distill")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/distill")
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// RepoRoot returns the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Letters are short pages with known facts, for tests that ask questions.
var Letters = map[string][]string{
	"alpha-2021.pdf": {
		"Alpha Widgets 2021 Letter\n\nRevenue grew 12% to $40 million in 2021. The Zephyr line of solar lanterns launched in March and sold 90,000 units.",
		"Our warehouse in Kraków opened in June. Customer satisfaction reached 91%, measured by our quarterly survey of 4,000 buyers.",
	},
	"alpha-2022.pdf": {
		"Alpha Widgets 2022 Letter\n\nRevenue grew 8% to $43 million in 2022. We acquired Borealis Optics for €12 million to make lenses in-house.",
		"The Zephyr line was discontinued after a recall of 3,000 lanterns with faulty batteries. Über-fast delivery now covers Zürich and Malmö.",
		"Looking ahead, we will invest in repair services so that products last longer and fewer end in landfills.",
	},
}
