package eval

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// DataError is a problem in an input file, with its line when it is one
// line's fault.
type DataError struct {
	File string
	Line int // 0 when the file as a whole is at fault
	Msg  string
}

func (e *DataError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// UserError marks a mistake in the user's data.
func (e *DataError) UserError() {}

// Skipped counts the bad lines a lenient read passed over.
type Skipped struct {
	Lines []DataError `json:"-"`
}

// Count is the number of skipped lines.
func (s *Skipped) Count() int { return len(s.Lines) }

// Summary says how many lines were skipped per file and shows the first.
func (s *Skipped) Summary() string {
	if len(s.Lines) == 0 {
		return ""
	}
	per := map[string]int{}
	var files []string
	for _, l := range s.Lines {
		if per[l.File] == 0 {
			files = append(files, l.File)
		}
		per[l.File]++
	}
	var parts []string
	for _, f := range files {
		parts = append(parts, fmt.Sprintf("%s: %d", f, per[f]))
	}
	return fmt.Sprintf("skipped %d bad lines (%s); first: %s", len(s.Lines), strings.Join(parts, ", "), s.Lines[0].Error())
}

// lineReader reads a file line by line with no limit on line length,
// deciding per bad line whether to fail (strict) or skip and count it.
type lineReader struct {
	file    string // as shown in errors
	r       *bufio.Reader
	line    int
	strict  bool
	skipped *Skipped
}

// next returns the next line without its newline; io.EOF at the end.
func (lr *lineReader) next() (string, error) {
	s, err := lr.r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && s != "") {
		if errors.Is(err, io.EOF) {
			return "", io.EOF
		}
		return "", &DataError{File: lr.file, Line: lr.line + 1, Msg: err.Error()}
	}
	lr.line++
	return strings.TrimRight(s, "\r\n"), nil
}

// bad reports a bad line: an error when strict, else counted and nil.
func (lr *lineReader) bad(format string, args ...any) error {
	e := DataError{File: lr.file, Line: lr.line, Msg: fmt.Sprintf(format, args...)}
	if lr.strict {
		return &e
	}
	lr.skipped.Lines = append(lr.skipped.Lines, e)
	return nil
}

// openData opens a file for reading, with a clear error when it is missing.
func openData(path, shown string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, &DataError{File: shown, Msg: "no such file"}
		case errors.Is(err, os.ErrPermission):
			return nil, &DataError{File: shown, Msg: "permission denied"}
		}
		return nil, &DataError{File: shown, Msg: err.Error()}
	}
	return f, nil
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
