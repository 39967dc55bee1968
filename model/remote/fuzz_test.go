package remote

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"syscall"
	"testing"
)

// pieceReader returns data in pieces whose sizes come from cuts, then
// end (io.EOF, or a connection error).
type pieceReader struct {
	data, cuts []byte
	end        error
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.end
	}
	n := len(r.data)
	if len(r.cuts) > 0 {
		n, r.cuts = min(int(r.cuts[0])+1, n), r.cuts[1:]
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func scanAll(r io.Reader) ([]string, error) {
	sc := LineScanner(r)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// FuzzLineScanner reads any stream, cut anywhere, ending cleanly or with
// a reset connection. The lines are the stream's newline-terminated
// lines whatever the cuts; a last line without a newline is never passed
// on and makes Err report the cut.
func FuzzLineScanner(f *testing.F) {
	f.Add([]byte("data: {\"a\": 1}\n\ndata: [DONE]\n\n"), []byte{0, 3, 200}, false)
	f.Add([]byte("{\"done\":false}\r\n{\"done\":tr"), []byte{5}, false)
	f.Add([]byte("{\"done\":true}\n"), []byte{}, true)
	f.Add([]byte(""), []byte{}, true)
	f.Add([]byte("\n\n\r\n"), []byte{0, 0}, false)
	f.Fuzz(func(t *testing.T, data, cuts []byte, reset bool) {
		end := io.EOF
		if reset {
			end = syscall.ECONNRESET
		}
		lines, err := scanAll(&pieceReader{data: data, cuts: cuts, end: end})
		var want []string
		rest := data
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			want = append(want, string(bytes.TrimSuffix(rest[:i], []byte("\r"))))
			rest = rest[i+1:]
		}
		if !slices.Equal(lines, want) {
			t.Fatalf("cuts %v: lines %q, want %q", cuts, lines, want)
		}
		switch {
		case reset && !errors.Is(err, syscall.ECONNRESET):
			t.Fatalf("reset stream: err %v", err)
		case !reset && len(rest) > 0 && !errors.Is(err, io.ErrUnexpectedEOF):
			t.Fatalf("stream ending in a line: err %v", err)
		case !reset && len(rest) == 0 && err != nil:
			t.Fatalf("clean stream: err %v", err)
		}
	})
}
