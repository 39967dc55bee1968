package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/server"
	"github.com/distill-rag/distill/store"
)

// A client that goes away mid-request cancels the model call: the fake
// model server sees its request's context end.
func TestClientGoneCancelsModelCall(t *testing.T) {
	tests := []struct{ name, path, body string }{
		{"ask", "/v1/collections/default/ask", `{"question": "What did Alpha Widgets acquire in 2022?", "technique": "regular"}`},
		{"ask stream", "/v1/collections/default/ask", `{"question": "What did Alpha Widgets acquire in 2022?", "technique": "regular", "stream": true}`},
		{"chat", "/v1/chat/completions", `{"model": "regular", "messages": [{"role": "user", "content": "What did Alpha Widgets acquire in 2022?"}]}`},
		{"chat stream", "/v1/chat/completions", `{"model": "regular", "stream": true, "messages": [{"role": "user", "content": "What did Alpha Widgets acquire in 2022?"}]}`},
		{"compare", "/v1/collections/default/compare", `{"question": "What did Alpha Widgets acquire in 2022?", "techniques": ["regular"]}`},
		{"eval", "/v1/collections/default/eval?techniques=regular", `{"question": "What did Alpha Widgets acquire in 2022?", "answers": ["Borealis"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entered := make(chan struct{}, 1)
			fake := fakemodel.OpenAI(t, fakemodel.Faults(fakemodel.Hang), fakemodel.OnRequest(func(fakemodel.Request) { entered <- struct{}{} }))
			e := start(t, func(c *server.Config) { c.Models = distill.Models{LLM: fake.URI("gpt-4o-mini")} }).withLetters()
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "POST", e.url+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			done := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				done <- err
			}()
			<-entered // the model call is under way
			cancel()
			if err := <-done; err == nil {
				t.Error("the request finished although the model hangs")
			}
			for i := 0; fake.Canceled() == 0; i++ {
				if i > 2000 {
					t.Fatal("the model call was not canceled when the client left")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if fake.Calls() != 1 {
				t.Errorf("%d model calls, want 1 (no retry after the client left)", fake.Calls())
			}
			// The server serves on, and the next call reaches the model.
			var res distill.Result
			e.do("POST", "/v1/collections/default/ask", `{"question": "What did Alpha Widgets acquire in 2022?", "technique": "regular"}`).ok(t, 200, &res)
			if res.Mode != "llm" || fake.Calls() != 2 {
				t.Errorf("after: %+v, %d calls", res, fake.Calls())
			}
		})
	}
}

// Uploads and questions at once against one server: no errors (no
// "database is locked" reaching a client), every document stored exactly
// once, and the collection checks clean afterwards.
func TestConcurrentUploadsAndQuestions(t *testing.T) {
	const uploaders, perUploader, askers, minAsks = 8, 6, 16, 4
	e := start(t).withLetters()
	client := &http.Client{}
	post := func(path string, body any) (int, []byte, error) {
		data, _ := json.Marshal(body)
		resp, err := client.Post(e.url+path, "application/json", bytes.NewReader(data))
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	var (
		mu       sync.Mutex
		failures []string
		asked    int
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	uploadsDone := make(chan struct{})
	var up, ask sync.WaitGroup
	for u := range uploaders {
		up.Add(1)
		go func() {
			defer up.Done()
			for d := range perUploader {
				name := fmt.Sprintf("u%d-d%d.md", u, d)
				docs := []map[string]string{{"name": name, "text": docText(u, d)}}
				if d > 0 { // and the previous one again, unchanged: a no-op
					docs = append(docs, map[string]string{"name": fmt.Sprintf("u%d-d%d.md", u, d-1), "text": docText(u, d-1)})
				}
				status, body, err := post("/v1/collections/default/documents?async=false", map[string]any{"documents": docs})
				if err != nil || status != 200 {
					fail("upload %s: %d %v %s", name, status, err, body)
					continue
				}
				var rep struct {
					Files []struct{ Source, Status, Error string }
				}
				json.Unmarshal(body, &rep)
				for _, f := range rep.Files {
					if want := map[bool]string{true: "added", false: "unchanged"}[filepath.Base(f.Source) == name]; f.Status != want {
						fail("upload %s: %s is %s (%s), want %s", name, f.Source, f.Status, f.Error, want)
					}
				}
			}
		}()
	}
	for a := range askers {
		ask.Add(1)
		go func() {
			defer ask.Done()
			for i := 0; ; i++ {
				if i >= minAsks {
					select {
					case <-uploadsDone:
						return
					default:
					}
				}
				path, body := "/v1/collections/default/ask", any(map[string]any{"question": fmt.Sprintf("What did team %d ship?", (a+i)%uploaders), "technique": []string{"regular", "parent", "extract"}[i%3]})
				if a%4 == 0 {
					path, body = "/v1/collections/default/compare", map[string]any{"question": "What did Alpha Widgets acquire in 2022?", "techniques": []string{"regular", "parent"}}
				}
				status, resp, err := post(path, body)
				if err != nil || status != 200 {
					fail("%s: %d %v %s", path, status, err, resp)
				}
				mu.Lock()
				asked++
				mu.Unlock()
			}
		}()
	}
	up.Wait()
	close(uploadsDone)
	ask.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d questions answered while %d documents were uploaded", asked, uploaders*perUploader)
	if asked < askers*minAsks {
		t.Errorf("%d questions answered, want at least %d", asked, askers*minAsks)
	}
	var list struct{ Documents []store.DocumentInfo }
	e.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &list)
	count := map[string]int{}
	for _, d := range list.Documents {
		count[filepath.Base(d.Source)]++
	}
	for u := range uploaders {
		for d := range perUploader {
			if n := count[fmt.Sprintf("u%d-d%d.md", u, d)]; n != 1 {
				t.Errorf("u%d-d%d.md stored %d times, want once", u, d, n)
			}
		}
	}
	if want := uploaders*perUploader + len(letterFiles(t)); len(list.Documents) != want {
		t.Errorf("%d documents, want %d", len(list.Documents), want)
	}
	// distill check on the collection, once the server let it go.
	if err := e.srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	eng, err := distill.Open(context.Background(), distill.Options{DB: filepath.Join(e.cfg.DataDir, "default"), Config: e.cfg.Config})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rep, err := eng.Check(context.Background(), store.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Documents != len(list.Documents) {
		t.Errorf("check: %d documents, problems %+v", rep.Documents, rep.Problems())
	}
}

// docText is uploader u's document d.
func docText(u, d int) string {
	return fmt.Sprintf("# Report %d of team %d\n\n%s", d, u,
		strings.Repeat(fmt.Sprintf("Team %d shipped release %d of the Quasar%d widget. Sales rose in quarter %d. ", u, d, u*10+d, d%4+1), 40))
}
