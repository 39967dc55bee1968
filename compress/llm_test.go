package compress

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/fence"

	"go.yaml.in/yaml/v3"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
)

// stageOf builds a compressor stage from YAML, as a config file holds it.
func stageOf(t testing.TB, src string) config.Stage {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	typ := ""
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" {
			typ = n.Content[i+1].Value
		}
	}
	return config.Stage{Type: typ, Node: n, Path: "techniques.t.compressors[0]", File: filepath.Join(t.TempDir(), "config.yaml")}
}

func build(t testing.TB, env Env, src string) Compressor {
	t.Helper()
	c, err := Build(env, stageOf(t, src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// passages are four chunks of one page, each with a marker word that the
// scripts key their answers on.
func passages() []document.Passage {
	texts := []string{
		"Alpha: Revenue grew 12% to $40 million in 2021. The board met twice.",
		"Bravo: The Zephyr line of solar lanterns launched in March and sold 90,000 units.",
		"Charlie: Our warehouse in Kraków opened in June. It employs 40 people.",
		"Delta: Customer satisfaction reached 91%, measured by a quarterly survey.",
	}
	var out []document.Passage
	off := 0
	for i, tx := range texts {
		out = append(out, document.Passage{ChunkID: string(rune('a' + i)), DocID: "d", Source: "/letters.pdf", Page: 2, Split: "chunks", Start: off, End: off + len(tx), Text: tx, Score: float64(10 - i)})
		off += len(tx) + 1
	}
	return out
}

// byMarker answers by the first word of the context in the prompt.
func byMarker(replies map[string]fakellm.Reply) fakellm.Script {
	return func(prompt string) fakellm.Reply {
		ctx := strings.TrimSpace(fencedText(prompt))
		marker, _, _ := strings.Cut(ctx, ":")
		if r, ok := replies[marker]; ok {
			return r
		}
		return fakellm.Reply{Text: "NO_OUTPUT"}
	}
}

func TestLLMExtractor(t *testing.T) {
	fake := fakellm.New(byMarker(map[string]fakellm.Reply{
		"Alpha":   {Text: "Revenue grew 12% to $40 million in 2021.\nProfits tripled."},
		"Bravo":   {Text: "no_output."},
		"Charlie": {Err: errors.New("503 Service Unavailable")},
		"Delta":   {Text: "Der Kundenzufriedenheitswert lag bei 91 Prozent."},
	}))
	c := build(t, Env{LLM: fake}, "type: extract")
	in := passages()
	out, rep, err := c.Compress(context.Background(), "How much did revenue grow?", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("kept %d passages, want 3 (Bravo answered NO_OUTPUT): %+v", len(out), out)
	}
	// Alpha: cut to the copied sentence, at its real offsets, with its provenance.
	a := out[0]
	if a.ChunkID != "a" || a.Text != "Revenue grew 12% to $40 million in 2021." || a.Page != 2 || a.Score != 10 {
		t.Errorf("alpha = %+v", a)
	}
	if len(a.Spans) != 1 || a.Spans[0].Start != len("Alpha: ") || a.Spans[0].End != len("Alpha: Revenue grew 12% to $40 million in 2021.") {
		t.Errorf("alpha spans = %v", a.Spans)
	}
	// Charlie failed, Delta answered in German: both passed on whole.
	if out[1].ChunkID != "c" || out[1].Text != in[2].Text || out[2].ChunkID != "d" || out[2].Text != in[3].Text {
		t.Errorf("uncompressed passages = %+v", out[1:])
	}
	if rep.Uncompressed != 2 {
		t.Errorf("uncompressed = %d, want 2", rep.Uncompressed)
	}
	wantInvented := len("Profits tripled.") + len([]rune("Der Kundenzufriedenheitswert lag bei 91 Prozent."))
	if rep.InventedChars != wantInvented {
		t.Errorf("invented = %d, want %d", rep.InventedChars, wantInvented)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, want := range []string{"chunk c not compressed: fake failed: 503 Service Unavailable", "chunk d not compressed: none of the answer is in the chunk", "chunk a: 16 characters of the answer are not in the chunk", "dropped 1 passage the model answered NO_OUTPUT for"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if rep.Usage.Calls != 4 || fake.Calls() != 4 {
		t.Errorf("calls = %d (fake saw %d), want 4", rep.Usage.Calls, fake.Calls())
	}
	if !rep.Usage.Estimated || rep.Usage.PromptTokens == 0 || rep.Usage.CompletionTokens == 0 {
		t.Errorf("usage = %+v, want estimated tokens", rep.Usage)
	}
	for _, req := range fake.Requests() {
		if req.Temperature == nil || *req.Temperature != 0 {
			t.Errorf("temperature = %v, want 0", req.Temperature)
		}
		if req.MaxTokens <= 0 {
			t.Errorf("max tokens = %d, want a cap", req.MaxTokens)
		}
		p := req.Messages[0].Content
		if !strings.Contains(p, "How much did revenue grow?") || !strings.Contains(p, "NO_OUTPUT") {
			t.Errorf("prompt lacks the question or NO_OUTPUT:\n%s", p)
		}
	}
}

func TestNoOutputParsing(t *testing.T) {
	tests := []struct {
		answer string
		want   bool
	}{
		{"NO_OUTPUT", true},
		{"no_output.", true},
		{"  `NO_OUTPUT`\n", true},
		{"**No Output**", true},
		{"\"NO-OUTPUT\"", true},
		{"NO_OUTPUT. The context does not mention revenue.", true},
		{"NoOutput", true},
		{"Revenue grew 12%.", false},
		{"No revenue figures are given; output fell.", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isNoOutput(tt.answer); got != tt.want {
			t.Errorf("isNoOutput(%q) = %v, want %v", tt.answer, got, tt.want)
		}
	}
}

func TestVerdictParsing(t *testing.T) {
	tests := []struct {
		answer string
		want   verdict
	}{
		{"YES", relevant},
		{"Yes, although it does not mention X", relevant},
		{"yes.", relevant},
		{"**YES**", relevant},
		{"No.", notRelevant},
		{"NO, but it mentions yes-men", notRelevant},
		{"The answer is no.", notRelevant},
		{"Not relevant.", notRelevant},
		{"Irrelevant", notRelevant},
		{"Oui.", relevant},
		{"Nein", notRelevant},
		{"Maybe", undecided},
		{"I cannot tell.", undecided},
		{"", undecided},
	}
	for _, tt := range tests {
		if got := parseVerdict(tt.answer); got != tt.want {
			t.Errorf("parseVerdict(%q) = %v, want %v", tt.answer, got, tt.want)
		}
	}
}

func TestLLMFilter(t *testing.T) {
	script := byMarker(map[string]fakellm.Reply{
		"Alpha":   {Text: "Yes, although it does not mention profits."},
		"Bravo":   {Text: "No."},
		"Charlie": {Text: "Perhaps; it depends."},
		"Delta":   {Err: errors.New("connection reset")},
	})
	tests := []struct {
		name      string
		src       string
		wantKept  string
		wantNotes []string
	}{
		{"undecided kept", "type: filter", "a c d", []string{`chunk c: the answer "Perhaps; it depends." says neither YES nor NO; kept`, "chunk d not filtered: fake failed: connection reset", "dropped 1 passage the model judged not relevant"}},
		{"undecided dropped", "{type: filter, undecided: drop}", "a d", []string{"says neither YES nor NO; dropped", "dropped 2 passages"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakellm.New(script)
			c := build(t, Env{LLM: fake}, tt.src)
			out, rep, err := c.Compress(context.Background(), "How much did revenue grow?", passages())
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, p := range out {
				kept = append(kept, p.ChunkID)
				if orig := passages()[p.ChunkID[0]-'a']; p.Text != orig.Text || p.Score != orig.Score || len(p.Spans) != 0 {
					t.Errorf("filter changed passage %s: %+v", p.ChunkID, p)
				}
			}
			if got := strings.Join(kept, " "); got != tt.wantKept {
				t.Errorf("kept %q, want %q", got, tt.wantKept)
			}
			notes := strings.Join(rep.Notes, "\n")
			for _, w := range tt.wantNotes {
				if !strings.Contains(notes, w) {
					t.Errorf("notes lack %q:\n%s", w, notes)
				}
			}
			if rep.Uncompressed != 1 || rep.Usage.Calls != 4 {
				t.Errorf("uncompressed = %d, calls = %d", rep.Uncompressed, rep.Usage.Calls)
			}
			for _, req := range fake.Requests() {
				if req.MaxTokens != 16 || !strings.Contains(req.Messages[0].Content, "YES") {
					t.Errorf("request: max tokens %d, prompt %q", req.MaxTokens, req.Messages[0].Content)
				}
			}
		})
	}
}

func TestLLMFaults(t *testing.T) {
	tests := []struct {
		name      string
		reply     fakellm.Reply
		wantText  string // of the one passage passed on ("" for dropped)
		wantNote  string
		wantUsage func(cost.Usage) bool
	}{
		{"empty answer keeps the chunk", fakellm.Reply{Text: "  \n "}, "Alpha: Revenue grew 12% to $40 million in 2021. The board met twice.", "the model's answer was empty", nil},
		{"endless answer is capped and what it copied kept", fakellm.Reply{Text: "Revenue grew 12% to $40 million in 2021.", Endless: true, IgnoreMaxTokens: true}, "Revenue grew 12% to $40 million in 2021.", "the answer was cut at", func(u cost.Usage) bool { return u.Estimated && u.Calls == 1 }},
		{"answer cut by max_tokens", fakellm.Reply{Text: "The board met twice.", Endless: true}, "The board met twice.", "the answer was cut at", nil},
		{"provider usage is used as reported", fakellm.Reply{Text: "The board met twice.", Usage: cost.Usage{PromptTokens: 120, CompletionTokens: 6}}, "The board met twice.", "", func(u cost.Usage) bool {
			return !u.Estimated && u.PromptTokens == 120 && u.CompletionTokens == 6 && u.Calls == 1
		}},
		{"a cached answer costs no call", fakellm.Reply{Text: "The board met twice.", Usage: cost.Usage{Cached: 1}}, "The board met twice.", "", func(u cost.Usage) bool { return u.Calls == 0 && u.Cached == 1 && u.PromptTokens == 0 }},
		{"NO_OUTPUT after a preamble drops the chunk", fakellm.Reply{Text: "Answer: NO_OUTPUT"}, "", "NO_OUTPUT", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakellm.New(func(string) fakellm.Reply { return tt.reply })
			c := build(t, Env{LLM: fake}, "type: extract")
			out, rep, err := c.Compress(context.Background(), "q", passages()[:1])
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantText == "" && len(out) != 0:
				t.Errorf("kept %+v, want it dropped", out)
			case tt.wantText != "" && (len(out) != 1 || out[0].Text != tt.wantText):
				t.Errorf("passed on %+v, want text %q", out, tt.wantText)
			}
			if notes := strings.Join(rep.Notes, "\n"); !strings.Contains(notes, tt.wantNote) {
				t.Errorf("notes lack %q:\n%s", tt.wantNote, notes)
			}
			if tt.wantUsage != nil && !tt.wantUsage(rep.Usage) {
				t.Errorf("usage = %+v", rep.Usage)
			}
		})
	}
}

func TestStrictFailsTheAnswer(t *testing.T) {
	fake := fakellm.New(byMarker(map[string]fakellm.Reply{"Alpha": {Text: "NO_OUTPUT"}, "Charlie": {Err: errors.New("quota exceeded")}}))
	for _, typ := range []string{"extract", "filter"} {
		c := build(t, Env{LLM: fake}, "{type: "+typ+", strict: true}")
		_, _, err := c.Compress(context.Background(), "q", passages())
		if err == nil || !strings.Contains(err.Error(), "chunk c") || !strings.Contains(err.Error(), "quota exceeded") {
			t.Errorf("%s: err = %v, want the failed chunk and cause", typ, err)
		}
	}
}

func TestCallTimeoutKeepsTheChunk(t *testing.T) {
	fake := fakellm.New(func(string) fakellm.Reply { return fakellm.Reply{Text: "NO_OUTPUT"} })
	fake.Latency = time.Hour
	c := build(t, Env{LLM: fake}, "{type: extract, timeout: 1ms}")
	out, rep, err := c.Compress(context.Background(), "q", passages()[:2])
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || rep.Uncompressed != 2 || !strings.Contains(strings.Join(rep.Notes, "\n"), "no answer within 1ms") {
		t.Errorf("out = %d passages, report = %+v", len(out), rep)
	}
}

func TestCallerGivingUpIsAnError(t *testing.T) {
	fake := fakellm.New(func(string) fakellm.Reply { return fakellm.Reply{Text: "NO_OUTPUT"} })
	fake.Latency = time.Hour
	c := build(t, Env{LLM: fake}, "type: filter")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Compress(ctx, "q", passages()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// barrier holds each call until n calls have arrived, so that a test sees
// that n run at once without relying on timing.
type barrier struct {
	mu      sync.Mutex
	arrived int
	n       int
	release chan struct{}
}

func (b *barrier) wait() bool {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.release)
	}
	b.mu.Unlock()
	select {
	case <-b.release:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		b := &barrier{n: limit, release: make(chan struct{})}
		var stuck sync.Once
		var gotStuck bool
		fake := fakellm.New(func(string) fakellm.Reply {
			if !b.wait() {
				stuck.Do(func() { gotStuck = true })
			}
			return fakellm.Reply{Text: "YES"}
		})
		var ps []document.Passage
		for i := 0; i < 12; i++ {
			ps = append(ps, passages()...)
		}
		c := build(t, Env{LLM: fake}, "{type: filter, concurrency: "+strconv.Itoa(limit)+"}")
		out, _, err := c.Compress(context.Background(), "q", ps)
		if err != nil {
			t.Fatal(err)
		}
		if gotStuck {
			t.Errorf("limit %d: fewer than %d calls ever ran at once", limit, limit)
		}
		if fake.Peak() > limit {
			t.Errorf("limit %d: %d calls ran at once", limit, fake.Peak())
		}
		if len(out) != len(ps) || fake.Calls() != len(ps) {
			t.Errorf("limit %d: %d passages out, %d calls, want %d", limit, len(out), fake.Calls(), len(ps))
		}
	}
}

func TestBuildLLMStages(t *testing.T) {
	fake := fakellm.New(func(string) fakellm.Reply { return fakellm.Reply{Text: "YES"} })
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tmpl")
	os.WriteFile(good, []byte("Q={{.Question}} C={{.Context}} Relevant?"), 0o644)
	bad := filepath.Join(dir, "bad.tmpl")
	os.WriteFile(bad, []byte("Is this relevant to {{.Question}}?"), 0o644)
	tests := []struct {
		name    string
		env     Env
		src     string
		want    string // type name of the compressor, or the error text
		wantErr bool
	}{
		{"extract offline is local", Env{}, "type: extract", "*compress.Sentences", false},
		{"extract with a model is the LLM's", Env{LLM: fake}, "type: extract", "*compress.LLMExtractor", false},
		{"mode local keeps the local one", Env{LLM: fake}, "{type: extract, mode: local, min_coverage: 0.3}", "*compress.Sentences", false},
		{"mode llm without a model is unavailable", Env{}, "{type: filter, mode: llm}", "*compress.Unavailable", false},
		{"filter offline takes local parameters and LLM ones", Env{}, "{type: filter, min_coverage: 0.2, concurrency: 2}", "*compress.Relevance", false},
		{"prompt file", Env{LLM: fake}, "{type: filter, prompt_file: " + good + "}", "*compress.LLMFilter", false},
		{"prompt file without the context", Env{LLM: fake}, "{type: filter, prompt_file: " + bad + "}", "prompt_file: the prompt must show {{.Question}} and {{.Context}}", true},
		{"missing prompt file", Env{LLM: fake}, "{type: filter, prompt_file: nowhere.tmpl}", "prompt_file: cannot read", true},
		{"bad template", Env{LLM: fake}, "{type: extract, prompt: '{{.Question'}", "prompt: bad template", true},
		{"zero concurrency", Env{LLM: fake}, "{type: extract, concurrency: 0}", "concurrency: must be a positive number", true},
		{"bad mode", Env{LLM: fake}, "{type: extract, mode: cloud}", "mode: must be auto, llm or local", true},
		{"bad undecided", Env{LLM: fake}, "{type: filter, undecided: maybe}", "undecided: must be keep or drop", true},
		{"unknown key", Env{LLM: fake}, "{type: extract, concurency: 2}", "concurency: unknown key", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Build(tt.env, stageOf(t, tt.src))
			if tt.wantErr {
				var ce *config.Error
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want a config error with %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := typeName(c); got != tt.want {
				t.Errorf("built %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPromptFileIsUsed(t *testing.T) {
	fake := fakellm.New(func(string) fakellm.Reply { return fakellm.Reply{Text: "yes"} })
	path := filepath.Join(t.TempDir(), "p.tmpl")
	os.WriteFile(path, []byte("QUESTION<{{.Question}}> CONTEXT<{{.Context}}>"), 0o644)
	c := build(t, Env{LLM: fake}, "{type: filter, prompt_file: "+path+"}")
	if _, _, err := c.Compress(context.Background(), "why?", passages()[:1]); err != nil {
		t.Fatal(err)
	}
	if got, want := fake.Requests()[0].Messages[0].Content, "QUESTION<why?> CONTEXT<"+fence.Text(passages()[0].Text)+">"; got != want {
		t.Errorf("prompt = %q, want %q", got, want)
	}
}

func TestUnavailableSaysWhatIsMissing(t *testing.T) {
	c := build(t, Env{}, "{type: extract, mode: llm}")
	_, _, err := c.Compress(context.Background(), "q", passages())
	var me *MissingModelError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v", err)
	}
	if want := `technique "t" needs a language model for its extract stage: give one with --llm URI or $DISTILL_LLM`; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// fencedText is the chunk a compression prompt fences.
func fencedText(prompt string) string {
	if b := fence.Blocks(prompt); len(b) > 0 {
		return b[0]
	}
	return ""
}
