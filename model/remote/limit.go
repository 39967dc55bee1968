package remote

import (
	"fmt"
	"io"
	"net/http"
)

// MaxAnswer bounds the bytes of one answer body from a model server
// (a whole stream included). An answer past it fails, unretried, rather
// than being held in memory: a misbehaving or hostile server cannot grow
// the process without bound. Chat answers are a few kilobytes; the
// largest legitimate bodies are embedding batches (64 texts × 3,072
// dimensions as JSON is about 4 MB).
var MaxAnswer int64 = 32 << 20

// AnswerTooLargeError is an answer body cut off at MaxAnswer.
type AnswerTooLargeError struct{ Limit int64 }

func (e *AnswerTooLargeError) Error() string {
	return fmt.Sprintf("the answer is larger than %d MiB, more than a model server sends; refusing to read it", e.Limit>>20)
}

// LimitAnswer bounds resp's body at MaxAnswer.
func LimitAnswer(resp *http.Response) *http.Response {
	if resp != nil && resp.Body != nil {
		resp.Body = &cappedBody{ReadCloser: resp.Body, left: MaxAnswer, limit: MaxAnswer}
	}
	return resp
}

// LimitAnswers is a transport (base, or http.DefaultTransport when nil)
// whose answer bodies are bounded at MaxAnswer; for clients that do not
// go through Client (SDKs).
func LimitAnswers(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return limitTransport{base}
}

type limitTransport struct{ base http.RoundTripper }

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	return LimitAnswer(resp), err
}

type cappedBody struct {
	io.ReadCloser
	left, limit int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, &AnswerTooLargeError{Limit: b.limit}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
