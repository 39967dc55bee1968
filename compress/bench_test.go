package compress

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport/fakellm"
)

// BenchmarkLLMCompression measures the compression stage for k=4 chunks
// with a model that takes 200 ms per call: concurrently (the default) it
// should take about one call's time, sequentially (concurrency 1, as the
// study's chains run) four. x_one_call is the stage's time over one call's.
func BenchmarkLLMCompression(b *testing.B) {
	const latency = 200 * time.Millisecond
	script := byMarker(map[string]fakellm.Reply{
		"Alpha":   {Text: "Revenue grew 12% to $40 million in 2021."},
		"Bravo":   {Text: "NO_OUTPUT"},
		"Charlie": {Text: "Yes, it says when the warehouse opened."},
		"Delta":   {Text: "No."},
	})
	for _, typ := range []string{"extract", "filter"} {
		for _, conc := range []int{8, 1} {
			b.Run(fmt.Sprintf("%s/concurrency=%d", typ, conc), func(b *testing.B) {
				fake := fakellm.New(script)
				fake.Latency = latency
				c := build(b, Env{LLM: fake}, fmt.Sprintf("{type: %s, concurrency: %d}", typ, conc))
				ps := passages()
				var calls, prompt, completion int
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					_, rep, err := c.Compress(context.Background(), "How much did revenue grow?", ps)
					if err != nil {
						b.Fatal(err)
					}
					calls += rep.Usage.Calls
					prompt += rep.Usage.PromptTokens
					completion += rep.Usage.CompletionTokens
				}
				elapsed := time.Since(start)
				b.ReportMetric(float64(elapsed)/float64(b.N)/float64(latency), "x_one_call")
				b.ReportMetric(float64(calls)/float64(b.N), "llm_calls/op")
				b.ReportMetric(float64(prompt)/float64(b.N), "prompt_tokens/op")
				b.ReportMetric(float64(completion)/float64(b.N), "completion_tokens/op")
			})
		}
	}
}

// BenchmarkMatchBack measures finding an extract in a 1,000-character chunk.
func BenchmarkMatchBack(b *testing.B) {
	p := chunk()
	for len(p.Text) < 1000 {
		p.Text += " " + chunkText
	}
	p.End = p.Start + len(p.Text)
	answer := "The Zephyr line of solar lanterns launched in March\n“Customer first” is our motto — always.\nSomething the model made up."
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		matchBack(p, answer)
	}
}
