package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-rag/distill/server"
	"github.com/distill-rag/distill/store"
)

// trickle reads its data a few bytes at a time, like a slow client.
type trickle struct {
	r     io.Reader
	pause time.Duration
}

func (t *trickle) Read(p []byte) (int, error) {
	time.Sleep(t.pause)
	if len(p) > 64 {
		p = p[:64]
	}
	return t.r.Read(p)
}

type uploadResult struct {
	name   string
	status int
	body   string
	got    time.Time // when the answer arrived
}

// No acknowledged write is lost when a collection is deleted under its
// uploads: slow multipart uploads and quick JSON ones run while the
// collection is deleted and created again. Every upload answers 200 (then
// its document is stored, unless the delete's answer came after it), 404
// or 409, never 500; the delete never fails; the name can be created again
// at once and starts empty.
func TestDeleteDuringUploads(t *testing.T) {
	e := start(t)
	iterations := 40
	if testing.Short() {
		iterations = 12
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	send := func(name string, slow bool) uploadResult {
		text := "Document " + name + " records the quarterly widget count."
		var req *http.Request
		if slow {
			mb := multipartFiles(t, map[string][]byte{name: []byte(strings.Repeat(text+" ", 20))})
			req, _ = http.NewRequest("POST", e.url+"/v1/collections/c/documents?async=false", &trickle{r: bytes.NewReader(mb.buf.Bytes()), pause: 2 * time.Millisecond})
			req.Header.Set("Content-Type", mb.contentType)
		} else {
			body, _ := json.Marshal(map[string]any{"documents": []map[string]string{{"name": name, "text": text}}})
			req, _ = http.NewRequest("POST", e.url+"/v1/collections/c/documents?async=false", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("upload %s: %v", name, err)
			return uploadResult{name: name}
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return uploadResult{name: name, status: resp.StatusCode, body: string(data), got: time.Now()}
	}
	tally := map[int]int{}
	defer func() { t.Logf("upload answers by status: %v", tally) }()
	for it := 0; it < iterations; it++ {
		e.do("POST", "/v1/collections", map[string]string{"name": "c"}).ok(t, 201, nil)
		stop := make(chan struct{})
		var stopOnce sync.Once
		halt := func() { stopOnce.Do(func() { close(stop) }) }
		var mu sync.Mutex
		var results []uploadResult
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					r := send(fmt.Sprintf("u%d-%d-%d.txt", it, g, n), g%2 == 0)
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(5+rand.IntN(60)) * time.Millisecond)
		r := e.do("DELETE", "/v1/collections/c", nil)
		if r.status != 200 {
			halt()
			wg.Wait()
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		deleted := time.Now()
		if r := e.do("POST", "/v1/collections", map[string]string{"name": "c"}); r.status != 201 {
			halt()
			wg.Wait()
			t.Fatalf("create after the delete: %d %s", r.status, r.body)
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		halt()
		wg.Wait()

		var docs struct{ Documents []store.DocumentInfo }
		e.do("GET", "/v1/collections/c/documents", nil).ok(t, 200, &docs)
		stored := map[string]bool{}
		for _, d := range docs.Documents {
			stored[d.Source] = true
		}
		for _, r := range results {
			tally[r.status]++
			switch r.status {
			case 200:
				if !strings.Contains(r.body, `"added"`) {
					t.Errorf("iteration %d: %s answered 200 without adding: %s", it, r.name, r.body)
				}
				if r.got.After(deleted) && !stored[r.name] {
					t.Errorf("iteration %d: %s answered 200 after the delete but is not stored: %s", it, r.name, r.body)
				}
			case 404, 409:
				if stored[r.name] {
					t.Errorf("iteration %d: %s failed with %d but is stored", it, r.name, r.status)
				}
			default:
				t.Errorf("iteration %d: %s answered %d: %s", it, r.name, r.status, r.body)
			}
		}
		e.do("DELETE", "/v1/collections/c", nil).ok(t, 200, nil)
		if t.Failed() {
			return
		}
	}
}

// Deleting a collection stops the path job writing to it: the job ends
// canceled, saying why, the delete answers 200 and the name can be created
// again, empty.
func TestDeleteStopsAJob(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 400; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("note-%03d.txt", i)), []byte(fmt.Sprintf("Note %d says the widget count was %d.\n", i, i)), 0o644)
	}
	e := start(t, func(c *server.Config) { c.AllowPaths = []string{dir} })
	canceled := 0
	for it := 0; it < 3; it++ {
		e.do("POST", "/v1/collections", map[string]string{"name": "c"}).ok(t, 201, nil)
		var job server.Job
		e.do("POST", "/v1/collections/c/documents", map[string]any{"paths": []string{dir}}).ok(t, 202, &job)
		time.Sleep(time.Duration(it*20) * time.Millisecond)
		e.do("DELETE", "/v1/collections/c", nil).ok(t, 200, nil)
		job = waitJob(t, e, job.ID)
		switch {
		case job.Status == "canceled" && strings.Contains(job.Error, "deleted"):
			canceled++
		case job.Status == "done" && job.Done == 400:
		default:
			t.Errorf("job after the delete: %+v", job)
		}
		e.do("POST", "/v1/collections", map[string]string{"name": "c"}).ok(t, 201, nil)
		var docs struct{ Documents []store.DocumentInfo }
		e.do("GET", "/v1/collections/c/documents", nil).ok(t, 200, &docs)
		if len(docs.Documents) != 0 {
			t.Errorf("the new collection holds %d documents of the deleted one's job", len(docs.Documents))
		}
		e.do("DELETE", "/v1/collections/c", nil).ok(t, 200, nil)
	}
	if canceled == 0 {
		t.Errorf("no job was still running when its collection was deleted")
	}
}
