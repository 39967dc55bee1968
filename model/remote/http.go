package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/distill-rag/distill/model"
)

// Client sends JSON requests to one provider's server.
type Client struct {
	Provider string // names the provider in errors
	HTTP     *http.Client
	Header   http.Header // sent with every request (e.g. Authorization)
	Policy   Policy
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// PostJSON posts in as JSON to url and decodes the answer into out,
// retrying as the policy allows. An answer that is not the JSON expected
// (malformed, truncated, or with fields of the wrong type) is an error.
func (c *Client) PostJSON(ctx context.Context, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return Do(ctx, c.Policy, func(ctx context.Context) error {
		resp, err := c.post(ctx, url, body)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return &model.Error{Provider: c.Provider, Endpoint: url, Status: resp.StatusCode, Message: "reading the answer", Err: err}
		}
		if err := json.Unmarshal(data, out); err != nil {
			return &model.Error{Provider: c.Provider, Endpoint: url, Status: resp.StatusCode, Message: "malformed answer (" + Snippet(data) + ")", Err: err, Permanent: true}
		}
		return nil
	})
}

// PostLines posts in as JSON and calls onLine with each line of a
// streamed answer (NDJSON, or the "data:" lines of server-sent events). It
// retries only until the first line arrived: after that, a retry would
// repeat text the caller already showed.
func (c *Client) PostLines(ctx context.Context, url string, in any, onLine func(line []byte) error) error {
	return c.PostStream(ctx, url, in, onLine, nil)
}

// PostStream is PostLines with a check at the clean end of each attempt's
// stream: onEnd says whether the answer was whole. Its error is retried
// like any other unless it is marked Permanent (a stream that ended early
// after text was shown) or says nothing retryable.
func (c *Client) PostStream(ctx context.Context, url string, in any, onLine func(line []byte) error, onEnd func() error) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return Do(ctx, c.Policy, func(ctx context.Context) error {
		resp, err := c.post(ctx, url, body)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		sc := LineScanner(resp.Body)
		started := false
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			started = true
			if err := onLine(line); err != nil {
				return permanent(err)
			}
		}
		if err := sc.Err(); err != nil {
			me := &model.Error{Provider: c.Provider, Endpoint: url, Status: resp.StatusCode, Message: "stream cut short", Err: err}
			me.Permanent = started
			return me
		}
		if onEnd != nil {
			return onEnd()
		}
		return nil
	})
}

// maxLine bounds one line of a stream (an NDJSON object or SSE field).
const maxLine = 16 << 20

// LineScanner reads the lines of a stream (NDJSON, server-sent events),
// whose servers end every line with a newline. Unlike a plain
// bufio.Scanner it never passes on a last line without one: that line was
// cut off, by a failed read (Err reports it) or by a stream that ended
// early (Err is io.ErrUnexpectedEOF).
func LineScanner(r io.Reader) *bufio.Scanner {
	er := &errReader{r: r}
	sc := bufio.NewScanner(er)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if atEOF && len(data) > 0 && bytes.IndexByte(data, '\n') < 0 {
			if er.err != nil && er.err != io.EOF {
				return 0, nil, er.err
			}
			return 0, nil, io.ErrUnexpectedEOF
		}
		return bufio.ScanLines(data, atEOF)
	})
	return sc
}

// errReader remembers the error that ended reading.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// permanent marks err so that Do does not retry it.
func permanent(err error) error {
	var me *model.Error
	if errors.As(err, &me) {
		me.Permanent = true
		return err
	}
	return &stopError{err}
}

type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

func (c *Client) post(ctx context.Context, url string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &model.Error{Provider: c.Provider, Endpoint: url, Message: "bad URL", Err: err, Permanent: true}
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &model.Error{Provider: c.Provider, Endpoint: url, Err: unwrapURLError(err)}
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
		return nil, &model.Error{Provider: c.Provider, Endpoint: url, Status: resp.StatusCode, Message: ErrorMessage(data), RetryAfter: RetryAfter(resp.Header)}
	}
	return LimitAnswer(resp), nil
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.HasPrefix(err.Error(), "Post ") {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// ErrorMessage pulls the message out of an error body in the shapes
// servers use ({"error": "..."}, {"error": {"message": "..."}},
// {"message": "..."}), else returns the start of the body.
func ErrorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
	}
	if json.Unmarshal(body, &v) == nil {
		var s string
		if json.Unmarshal(v.Error, &s) == nil && s != "" {
			return s
		}
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(v.Error, &obj) == nil && obj.Message != "" {
			return obj.Message
		}
		if v.Message != "" {
			return v.Message
		}
		if v.Detail != "" {
			return v.Detail
		}
	}
	return Snippet(body)
}

// Snippet is the start of a body, on one line, for an error message.
func Snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if s == "" {
		return "empty body"
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return fmt.Sprintf("%q", s)
}
