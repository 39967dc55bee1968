package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/distill-rag/distill/ingest"
)

// Job statuses.
const (
	jobRunning  = "running"
	jobDone     = "done"
	jobFailed   = "failed"
	jobCanceled = "canceled"
)

// Job is an ingestion run the server does in the background, with its
// progress; GET /v1/jobs/{id} returns it.
type Job struct {
	ID         string         `json:"id"`
	Collection string         `json:"collection"`
	Status     string         `json:"status"`
	Files      int            `json:"files"`
	Done       int            `json:"done"`
	Bytes      int64          `json:"bytes"`
	DoneBytes  int64          `json:"done_bytes"`
	Progress   float64        `json:"progress"` // 0 to 1, by bytes
	Report     *ingest.Report `json:"report,omitempty"`
	Error      string         `json:"error,omitempty"`
	Created    time.Time      `json:"created"`
	Finished   *time.Time     `json:"finished,omitempty"`
}

// jobs keeps the jobs of the running server in memory; finished jobs are
// forgotten after keepJobs, and all of them when the server stops.
type jobs struct {
	mu      sync.Mutex
	byID    map[string]*Job
	active  int // jobs running, under mu
	running sync.WaitGroup
}

const keepJobs = time.Hour

func newJobs() *jobs { return &jobs{byID: map[string]*Job{}} }

func newID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// full reports whether max jobs are running.
func (js *jobs) full(max int) bool {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.active >= max
}

// start records a job and runs it in the background; run reports progress
// through the function it is given. With max jobs running it refuses (429).
func (js *jobs) start(max int, collection string, files int, bytes int64, run func(progress func(ingest.Progress)) (*ingest.Report, error)) (*Job, error) {
	js.mu.Lock()
	if js.active >= max {
		js.mu.Unlock()
		return nil, tooManyJobs(max)
	}
	js.active++
	now := time.Now()
	for id, j := range js.byID {
		if j.Finished != nil && now.Sub(*j.Finished) > keepJobs {
			delete(js.byID, id)
		}
	}
	j := &Job{ID: newID("job_"), Collection: collection, Status: jobRunning, Files: files, Bytes: bytes, Created: now.UTC()}
	js.byID[j.ID] = j
	snapshot := *j
	js.running.Add(1)
	js.mu.Unlock()
	go func() {
		defer js.running.Done()
		defer func() {
			js.mu.Lock()
			js.active--
			js.mu.Unlock()
		}()
		rep, err := run(func(p ingest.Progress) {
			js.mu.Lock()
			j.Done, j.DoneBytes = p.Done, p.DoneBytes
			// The ingest knows the files a server path expands to, and
			// their size; the request only knew the paths.
			if p.Total > 0 {
				j.Files, j.Bytes = p.Total, p.TotalBytes
			}
			j.Progress = progress(p.DoneBytes, j.Bytes)
			js.mu.Unlock()
		})
		js.mu.Lock()
		defer js.mu.Unlock()
		fin := time.Now().UTC()
		if rep != nil && rep.Files == nil {
			rep.Files = []ingest.FileResult{} // a run stopped before its first file
		}
		j.Finished, j.Report = &fin, rep
		var de *deletedError
		switch {
		case err == nil:
			j.Status, j.Progress = jobDone, 1
		case errors.As(err, &de):
			j.Status, j.Error = jobCanceled, de.Error()
		case errors.Is(err, context.Canceled):
			j.Status, j.Error = jobCanceled, "the server stopped before the job finished; files not reported were not ingested"
		default:
			j.Status, j.Error = jobFailed, err.Error()
		}
	}()
	return &snapshot, nil
}

func progress(done, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(done) / float64(total)
}

// get returns a copy of a job.
func (js *jobs) get(id string) (Job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.byID[id]
	if !ok {
		return Job{}, false
	}
	return *j, true
}

// wait waits for running jobs until ctx is done.
func (js *jobs) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { js.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
