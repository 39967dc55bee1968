package distill_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/internal/testsupport/faultproxy"
)

// extractOrAnswer is an OpenAI-compatible model's side of the extract
// technique: the first sentence of the context for an extraction prompt,
// a short answer for the question-answering one.
func extractOrAnswer(prompt string) string {
	if !strings.Contains(prompt, "Copy out the parts of the context") {
		return "Revenue grew 8% in 2022 [1]."
	}
	ctx := fencedText(prompt)
	first, _, _ := strings.Cut(strings.TrimSpace(ctx), ". ")
	return first + "."
}

// faultyExtraction hangs the extraction calls for the chunk holding
// hangOn and answers those for the chunk holding stormOn with 503, always;
// everything else (other chunks, the final answer) passes.
func faultyExtraction(hangOn, stormOn string) faultproxy.Script {
	return func(_ int, r faultproxy.Request) faultproxy.Fault {
		body := string(r.Body)
		if !strings.Contains(body, "Copy out the parts of the context") {
			return faultproxy.Pass
		}
		switch {
		case strings.Contains(body, hangOn):
			return faultproxy.Hang
		case strings.Contains(body, stormOn):
			return faultproxy.Status(503, "")
		}
		return faultproxy.Pass
	}
}

// TestAskAnswersThroughFailingCompressorCalls asks with the LLM extractor
// through a real provider (OpenAI-compatible) whose server hangs on one
// chunk's call and answers another's with a storm of 503s: the ask still
// answers, passes those two chunks on whole, and says which and why.
func TestAskAnswersThroughFailingCompressorCalls(t *testing.T) {
	db := collection(t)
	// A third letter, whose call passes.
	eng0 := open(t, db, distill.Models{LLM: "none", Rerank: "none", Embed: "none"}, true, "")
	beta := testsupport.Write(t, t.TempDir(), "beta-2022.md", []byte("Beta Gadgets 2022 Letter\n\nRevenue grew 3% in 2022. Our Oslo shop closed in May."))
	if _, err := eng0.Ingest(context.Background(), []string{beta}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	eng0.Close()
	srv := fakemodel.OpenAI(t, fakemodel.ReplyFunc(extractOrAnswer))
	const hangOn, stormOn = "Revenue grew 12%", "Revenue grew 8%"
	p := faultproxy.New(t, srv.URL, faultyExtraction(hangOn, stormOn))
	llm := "openai:gpt-4o-mini?base_url=" + p.URL + "/v1&timeout=300ms&retries=1&backoff=1ms"
	eng := open(t, db, distill.Models{LLM: llm, Rerank: "none", Embed: "none"}, true, "")

	res, err := eng.Ask(context.Background(), "How much did revenue grow in 2022?", "extract")
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer != "Revenue grew 8% in 2022 [1]." {
		t.Errorf("answer %q, want the model's", res.Answer)
	}
	stage := res.Stats.Stages[1]
	if stage.Name != "compress:extract" || stage.Uncompressed != 2 {
		t.Fatalf("stage %+v, want 2 chunks not compressed", stage)
	}
	notes := strings.Join(stage.Notes, "\n")
	found := map[string]bool{}
	for _, c := range res.Contexts {
		var why string
		switch {
		case strings.Contains(c.Text, hangOn):
			why = "no answer within 300ms (timeout option)"
		case strings.Contains(c.Text, stormOn):
			why = "HTTP 503 Service Unavailable"
		default:
			if strings.Contains(notes, "chunk "+c.ChunkID+" not compressed") {
				t.Errorf("chunk %s noted as not compressed, but its calls passed", c.ChunkID)
			}
			continue
		}
		found[why] = true
		page, err := eng.Store().Page(context.Background(), c.DocID, c.Page)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Spans) != 0 || page[c.Start:c.End] != c.Text {
			t.Errorf("context %q (spans %v) is not its whole chunk", c.Text, c.Spans)
		}
		want := fmt.Sprintf("chunk %s not compressed: %s failed: ", c.ChunkID, strings.SplitN(llm, "?", 2)[0])
		line := ""
		for _, n := range stage.Notes {
			if strings.HasPrefix(n, want) {
				line = n
			}
		}
		if !strings.Contains(line, why) || !strings.Contains(line, p.URL) {
			t.Errorf("no note %q…%q naming the endpoint %s; notes:\n%s", want, why, p.URL, notes)
		}
	}
	if len(found) != 2 {
		t.Errorf("the faulty chunks were not both retrieved (%v)", found)
	}
	compressed := false
	for _, c := range res.Contexts {
		if c.Text == "Beta Gadgets 2022 Letter Revenue grew 3% in 2022." || c.Text == "Beta Gadgets 2022 Letter\n\nRevenue grew 3% in 2022." {
			compressed = true
		}
	}
	if !compressed {
		t.Errorf("the chunk whose call passed was not compressed: %+v", res.Contexts)
	}
	// Each faulty chunk was tried twice (retries=1); the hung requests were
	// given up by the client, not left open.
	tries := map[string]int{}
	for _, a := range p.Log() {
		switch {
		case a.Fault.Hang:
			tries["hang"]++
			if !a.ClientGone {
				t.Errorf("a hung request was not given up: %+v", a)
			}
		case a.Fault.Status == 503:
			tries["503"]++
		}
	}
	if tries["hang"] != 2 || tries["503"] != 2 {
		t.Errorf("attempts %v, want 2 of each", tries)
	}
}

// TestCancelledAskReachesTheProvider cancels an ask while every
// compressor call hangs: the ask returns context.Canceled and every
// request in flight is given up (the server sees its context end).
func TestCancelledAskReachesTheProvider(t *testing.T) {
	db := collection(t)
	srv := fakemodel.OpenAI(t, fakemodel.ReplyFunc(extractOrAnswer))
	p := faultproxy.New(t, srv.URL, func(_ int, r faultproxy.Request) faultproxy.Fault {
		if strings.Contains(string(r.Body), "Copy out the parts of the context") {
			return faultproxy.Hang
		}
		return faultproxy.Pass
	})
	eng := open(t, db, distill.Models{LLM: "openai:gpt-4o-mini?base_url=" + p.URL + "/v1", Rerank: "none", Embed: "none"}, true, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := eng.Ask(ctx, "How much did revenue grow in 2022?", "extract")
		errc <- err
	}()
	p.Held(t)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("ask returned %v, want context.Canceled", err)
	}
	// Every request the proxy held sees its client leave.
	deadline := time.Now().Add(time.Minute)
	for {
		open := 0
		for _, a := range p.Log() {
			if a.Fault.Hang && !a.ClientGone {
				open++
			}
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still open a minute after the ask was cancelled", open)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := p.Attempts(); n == 0 {
		t.Error("no request reached the provider")
	}
}
