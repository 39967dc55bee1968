package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/distill-rag/distill/server"
)

// A job ingesting a server directory counts the files in it, not the one
// path it was given ("done 1381 / files 1").
func TestPathJobCountsFiles(t *testing.T) {
	dir := t.TempDir()
	var size int64
	for i := 0; i < 7; i++ {
		text := fmt.Sprintf("Note %d: the widget count was %d.\n", i, i*17)
		size += int64(len(text))
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("note-%d.txt", i)), []byte(text), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "more.md"), []byte("# More\n\nA further note.\n"), 0o644)
	size += int64(len("# More\n\nA further note.\n"))

	e := start(t, func(c *server.Config) { c.AllowPaths = []string{dir} })
	var job server.Job
	e.do("POST", "/v1/collections/default/documents", map[string]any{"paths": []string{dir}}).ok(t, 202, &job)
	if job.Files != 8 {
		t.Errorf("the job answered counts %d files, want 8: %+v", job.Files, job)
	}
	job = waitJob(t, e, job.ID)
	if job.Status != "done" || job.Files != 8 || job.Done != 8 || job.Bytes != size || job.DoneBytes != size || job.Progress != 1 || len(job.Report.Files) != 8 {
		t.Errorf("finished job: files %d done %d bytes %d done_bytes %d progress %v, want 8 files of %d bytes: %+v",
			job.Files, job.Done, job.Bytes, job.DoneBytes, job.Progress, size, job)
	}
}
