package llmcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
	"github.com/distill-rag/distill/model"
)

func req(prompt string, temp *float64, maxTokens int) model.Request {
	return model.Request{Messages: []model.Message{{Role: "user", Content: prompt}}, Temperature: temp, MaxTokens: maxTokens}
}

func f(v float64) *float64 { return &v }

func TestCache(t *testing.T) {
	fake := fakellm.New(func(p string) fakellm.Reply {
		switch p {
		case "fail":
			return fakellm.Reply{Err: errors.New("boom")}
		case "empty":
			return fakellm.Reply{Text: ""}
		}
		return fakellm.Reply{Text: "answer to " + p, Usage: cost.Usage{PromptTokens: 10, CompletionTokens: 3}}
	})
	c, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	llm := c.Wrap(fake)
	ctx := context.Background()
	steps := []struct {
		name       string
		req        model.Request
		stream     bool
		wantCalls  int // the fake's total after the step
		wantCached bool
		wantErr    bool
	}{
		{"first call goes to the model", req("a", f(0), 16), false, 1, false, false},
		{"same request is a hit", req("a", f(0), 16), false, 1, true, false},
		{"hit by stream too", req("a", f(0), 16), true, 1, true, false},
		{"other max tokens is another key", req("a", f(0), 32), false, 2, false, false},
		{"other prompt is another key", req("b", f(0), 16), true, 3, false, false},
		{"stream answer was stored", req("b", f(0), 16), false, 3, true, false},
		{"temperature above 0 is never cached", req("a", f(0.6), 16), false, 4, false, false},
		{"nor is the model's default temperature", req("a", nil, 16), false, 5, false, false},
		{"errors are not cached", req("fail", f(0), 16), false, 6, false, true},
		{"so the next ask tries again", req("fail", f(0), 16), false, 7, false, true},
		{"empty answers are not cached", req("empty", f(0), 16), false, 8, false, false},
		{"and are asked again", req("empty", f(0), 16), false, 9, false, false},
	}
	for _, s := range steps {
		var resp model.Response
		var err error
		var streamed strings.Builder
		if s.stream {
			resp, err = llm.Stream(ctx, s.req, func(p string) error { streamed.WriteString(p); return nil })
		} else {
			resp, err = llm.Generate(ctx, s.req)
		}
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: err = %v", s.name, err)
		}
		if fake.Calls() != s.wantCalls {
			t.Errorf("%s: model called %d times, want %d", s.name, fake.Calls(), s.wantCalls)
		}
		if got := resp.Usage.Cached == 1; got != s.wantCached {
			t.Errorf("%s: usage %+v, cached = %v", s.name, resp.Usage, got)
		}
		if s.wantCached && (resp.Usage.PromptTokens != 0 || resp.Usage.Calls != 0) {
			t.Errorf("%s: a hit must cost nothing, got %+v", s.name, resp.Usage)
		}
		if !s.wantErr && !strings.Contains(s.req.Messages[0].Content, "empty") && resp.Text != "answer to "+s.req.Messages[0].Content {
			t.Errorf("%s: text = %q", s.name, resp.Text)
		}
		if s.stream && streamed.String() != resp.Text {
			t.Errorf("%s: streamed %q, returned %q", s.name, streamed.String(), resp.Text)
		}
	}
}

func TestCacheSurvivesReopenAndIgnoresCorruptEntries(t *testing.T) {
	dir := t.TempDir()
	fake := fakellm.New(func(p string) fakellm.Reply { return fakellm.Reply{Text: "yes"} })
	c1, _ := Open(dir)
	if _, err := c1.Wrap(fake).Generate(context.Background(), req("q", f(0), 8)); err != nil {
		t.Fatal(err)
	}
	c2, _ := Open(dir)
	resp, err := c2.Wrap(fake).Generate(context.Background(), req("q", f(0), 8))
	if err != nil || resp.Usage.Cached != 1 || fake.Calls() != 1 {
		t.Fatalf("after reopening: %+v, %v, %d calls", resp, err, fake.Calls())
	}
	key := Key(fake.Name(), req("q", f(0), 8))
	if err := os.WriteFile(filepath.Join(dir, key[:2], key+".json"), []byte("{trunc"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err = c2.Wrap(fake).Generate(context.Background(), req("q", f(0), 8))
	if err != nil || resp.Usage.Cached != 0 || resp.Text != "yes" || fake.Calls() != 2 {
		t.Fatalf("corrupt entry: %+v, %v, %d calls", resp, err, fake.Calls())
	}
	resp, _ = c2.Wrap(fake).Generate(context.Background(), req("q", f(0), 8))
	if resp.Usage.Cached != 1 {
		t.Errorf("the corrupt entry was not rewritten: %+v", resp)
	}
	other := &fakellm.LLM{Model: "other", Script: fake.Script}
	if resp, _ := c2.Wrap(other).Generate(context.Background(), req("q", f(0), 8)); resp.Usage.Cached != 0 {
		t.Errorf("another model's answer was served from the cache")
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("DISTILL_CACHE", "/tmp/x")
	if DefaultDir() != "/tmp/x" {
		t.Errorf("DefaultDir = %q", DefaultDir())
	}
	t.Setenv("DISTILL_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	if DefaultDir() != "/tmp/xdg/distill/llm" {
		t.Errorf("DefaultDir = %q", DefaultDir())
	}
}

// TestCacheIsPrivate: cached answers quote documents, so the cache's
// directories are 0700 and its entries 0600 whatever the umask.
func TestCacheIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fake := fakellm.New(func(p string) fakellm.Reply { return fakellm.Reply{Text: "answer"} })
	if _, err := c.Wrap(fake).Generate(context.Background(), req("q", f(0), 16)); err != nil {
		t.Fatal(err)
	}
	n := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		n++
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if n < 3 {
		t.Fatalf("only %d paths checked: no entry written", n)
	}
}

// TestCacheEvictsLeastRecentlyUsed: past the cap the entries used longest
// ago go, down to 90% of the cap; an entry read since stays.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	probe, err := OpenMax(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("x", 900)
	if err := probe.put(Key("m", req("probe", f(0), 1)), entry{Text: text}); err != nil {
		t.Fatal(err)
	}
	u, _ := probe.Usage()
	one := u.Bytes
	probe.Clear()

	c, err := OpenMax(dir, 10*one) // room for 10 entries
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour)
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = Key("m", req(fmt.Sprint("q", i), f(0), 1))
		if err := c.put(keys[i], entry{Text: text}); err != nil {
			t.Fatal(err)
		}
		// Spread the uses a second apart: the test must not depend on
		// the file system's timestamp resolution.
		at := base.Add(time.Duration(i) * time.Second)
		os.Chtimes(c.path(keys[i]), at, at)
	}
	if u, _ := c.Usage(); u.Entries != 10 {
		t.Fatalf("%d entries under the cap, want 10", u.Entries)
	}
	if _, ok := c.get(keys[0]); !ok { // q0 is now the most recently used
		t.Fatal("q0 missing")
	}
	if err := c.put(Key("m", req("q10", f(0), 1)), entry{Text: text}); err != nil {
		t.Fatal(err)
	}
	u, err = c.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if u.Bytes > 9*one || u.Entries != 9 {
		t.Fatalf("after eviction %d entries, %d bytes; want 9 entries within 90%% of the cap (%d)", u.Entries, u.Bytes, 9*one)
	}
	for i, k := range keys {
		_, err := os.Stat(c.path(k))
		gone := errors.Is(err, os.ErrNotExist)
		if wantGone := i == 1 || i == 2; gone != wantGone {
			t.Errorf("q%d: gone=%v, want %v (q1 and q2 were the least recently used)", i, gone, wantGone)
		}
	}
}
