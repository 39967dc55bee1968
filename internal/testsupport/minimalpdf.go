package testsupport

import (
	"fmt"
	"strings"
)

// MinimalPDF is a small, valid PDF with one page per text, in the standard
// Helvetica font (not embedded): a compact seed for fuzzing the PDF loader,
// where a generated PDF with its embedded font would be too large to mutate
// usefully. Texts are single lines of ASCII.
func MinimalPDF(pages ...string) []byte {
	kids := make([]string, len(pages))
	objects := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
	for i, text := range pages {
		page, content := len(objects)+1, len(objects)+2
		kids[i] = fmt.Sprintf("%d 0 R", page)
		esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(text)
		stream := fmt.Sprintf("BT /F1 12 Tf 72 712 Td (%s) Tj ET", esc)
		objects = append(objects,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", content),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream))
	}
	objects[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages))
	return assemble(objects, "/Root 1 0 R")
}
