package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/server"
	"github.com/distill-rag/distill/store"
)

// A body trickling a byte every two seconds is cut off with 408 after the
// body timeout, on JSON routes and uploads alike, and the connection is
// closed; nothing is stored.
func TestSlowBodyIsCutOff(t *testing.T) {
	e := start(t, func(c *server.Config) { c.BodyTimeout = time.Second; c.BodyMinRate = 500 })
	mb := multipartFiles(t, map[string][]byte{"slow.txt": []byte("A document sent very slowly.")})
	tests := []struct {
		name, path, contentType string
		body                    []byte
	}{
		{"ask", "/v1/collections/default/ask", "application/json", []byte(`{"question": "What did Alpha Widgets acquire in 2022?"}`)},
		{"multipart upload", "/v1/collections/default/documents", mb.contentType, mb.buf.Bytes()},
		{"JSON upload", "/v1/collections/default/documents", "application/json", []byte(`{"documents": [{"name": "slow.txt", "text": "A document sent very slowly."}]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			began := time.Now()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", tt.path, tt.contentType, len(tt.body))
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for _, b := range tt.body {
					if _, err := conn.Write([]byte{b}); err != nil {
						return
					}
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Second):
					}
				}
			}()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer within 10 s: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			took := time.Since(began)
			if resp.StatusCode != 408 || !strings.Contains(string(body), "too slowly") || !resp.Close {
				t.Errorf("%d (close %v): %s", resp.StatusCode, resp.Close, body)
			}
			if took > 5*time.Second {
				t.Errorf("cut off after %s, want about 1 s", took)
			}
		})
	}
	var docs struct{ Documents []store.DocumentInfo }
	e.do("GET", "/v1/collections/default/documents", nil).ok(t, 200, &docs)
	if len(docs.Documents) != 0 {
		t.Errorf("slow uploads stored %+v", docs.Documents)
	}
}

// JSON bodies are held in memory: one over MaxInFlight is 413 (multipart,
// streamed to disk, is not), and while others hold the budget a request is
// refused with 503 and Retry-After.
func TestBodiesInMemoryAreBounded(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxInFlight = 64 << 10; c.SyncUpload = 1 << 20 })
	text := strings.Repeat("The widget count rose again this quarter. ", 2000) // 84 KB
	big, _ := json.Marshal(map[string]any{"documents": []map[string]string{{"name": "big.txt", "text": text}}})
	r := e.do("POST", "/v1/collections/default/documents", big)
	if r.status != 413 || !strings.Contains(string(r.body), "multipart") {
		t.Errorf("a JSON upload over the in-memory limit: %d %s", r.status, r.body)
	}
	var rep struct{ Files []struct{ Status string } }
	e.do("POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"big.txt": []byte(text)})).ok(t, 200, &rep)
	if len(rep.Files) != 1 || rep.Files[0].Status != "added" {
		t.Errorf("the same as multipart: %+v", rep)
	}

	// A JSON body of 60 KB arriving slowly holds most of the budget.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", e.url+"/v1/collections/default/ask", pr)
	req.ContentLength = 60 << 10
	req.Header.Set("Content-Type", "application/json")
	answered := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	slow := []byte(`{"question": "` + strings.Repeat("w", 60<<10-len(`{"question": ""}`)) + `"}`)
	pw.Write(slow[:100])
	var busy *response
	// Until the slow request has taken its share: on a loaded machine its
	// first bytes can take a while to reach the handler.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		busy = e.do("POST", "/v1/collections/default/ask", `{"question": "`+strings.Repeat("widget ", 1500)+`"}`)
		if busy.status != 200 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if busy.status != 503 || busy.header.Get("Retry-After") == "" || !strings.Contains(string(busy.body), "--max-inflight") {
		t.Errorf("a body over the budget left: %d %v %s", busy.status, busy.header, shortBody(busy.body))
	}
	pw.Write(slow[100:])
	pw.Close()
	<-answered
	// Once it is over, the budget is free again.
	e.do("POST", "/v1/collections/default/ask", `{"question": "`+strings.Repeat("widget ", 1500)+`"}`).ok(t, 200, nil)
}

// With MaxJobs running, another job is refused with 429 and Retry-After,
// and its upload is not kept; once the job is over a new one starts.
func TestJobsAreBounded(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxJobs = 1; c.SyncUpload = 1 })
	var lines strings.Builder
	for i := 0; lines.Len() < 3<<20; i++ {
		fmt.Fprintf(&lines, "Line %d of the long report says the widget count was %d.\n", i, i*7)
	}
	var job server.Job
	e.do("POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"long.txt": []byte(lines.String())})).ok(t, 202, &job)
	for _, q := range []string{"", "?async=true"} {
		r := e.do("POST", "/v1/collections/default/documents"+q, multipartFiles(t, map[string][]byte{"other.txt": []byte("Another document.")}))
		ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
		if r.status != 429 || ra < 1 || r.errorType() != "rate_limit_error" || !strings.Contains(string(r.body), "--max-jobs") {
			t.Errorf("a second job%s: %d %v %s", q, r.status, r.header, r.body)
		}
	}
	if j := waitJob(t, e, job.ID); j.Status != "done" {
		t.Fatalf("the first job: %+v", j)
	}
	e.do("POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"other.txt": []byte("Another document.")})).ok(t, 202, &job)
	waitJob(t, e, job.ID)
	entries, _ := os.ReadDir(filepath.Join(e.cfg.DataDir, ".uploads"))
	if len(entries) != 0 {
		t.Errorf("staged uploads left behind: %v", entries)
	}
}

// The heap returns to where it was after large uploads and large JSON
// bodies (accepted and refused ones).
func TestMemoryReturnsAfterLargeRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads megabytes")
	}
	e := start(t, func(c *server.Config) { c.MaxInFlight = 8 << 20; c.SyncUpload = 64 << 20 })
	heap := func() uint64 {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	e.do("POST", "/v1/collections/default/documents", map[string]any{"documents": []map[string]string{{"name": "warm.txt", "text": "Warm up."}}}).ok(t, 200, nil)
	base := heap()
	// A few hundred distinct words: the store keeps the vocabulary of an
	// open collection, which is not what this measures.
	var lines strings.Builder
	for i := 0; lines.Len() < 16<<20; i++ {
		fmt.Fprintf(&lines, "Line %d of the long report says the widget count was %d.\n", i%300, i%97)
	}
	e.do("POST", "/v1/collections/default/documents", multipartFiles(t, map[string][]byte{"long.txt": []byte(lines.String())})).ok(t, 200, nil)
	text := lines.String()[:6<<20]
	e.do("POST", "/v1/collections/default/documents", map[string]any{"documents": []map[string]string{{"name": "json.txt", "text": text}}}).ok(t, 200, nil)
	e.do("POST", "/v1/collections/default/documents", bytes.Repeat([]byte(" "), 9<<20)).ok(t, 413, nil)
	lines.Reset()
	text = ""
	after := heap()
	t.Logf("heap %d MB before, %d MB after 16 MB multipart, 6 MB JSON and 9 MB refused uploads", base>>20, after>>20)
	if after > base+48<<20 {
		t.Errorf("heap %d MB after the requests, %d MB before", after>>20, base>>20)
	}
}

// The fields of a multipart upload are held in memory, so they are
// bounded: each at 64 KiB, all together at MaxBody.
func TestMultipartFieldsAreBounded(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxBody = 100 << 10 })
	file := map[string][]byte{"a.txt": []byte("Alpha.")}
	meta := "k=" + strings.Repeat("v", 30<<10)
	var many []string
	for i := 0; i < 5; i++ {
		many = append(many, "meta", fmt.Sprintf("k%d=", i)+strings.Repeat("v", 30<<10))
	}
	for name, mb := range map[string]*multipartBody{
		"one field over 64 KiB": multipartFiles(t, file, "meta", "k="+strings.Repeat("v", 65<<10)),
		"fields over MaxBody":   multipartFiles(t, file, many...),
	} {
		r := e.do("POST", "/v1/collections/default/documents", mb)
		if r.status != 413 || r.errorType() != "request_too_large" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	e.do("POST", "/v1/collections/default/documents", multipartFiles(t, file, "meta", meta)).ok(t, 200, nil)
}
