package distill_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
)

// openWithLLM ingests two short letters and opens the engine with llm.
func openWithLLM(t *testing.T, llm, configText string) *distill.Engine {
	t.Helper()
	t.Setenv("DISTILL_EMBED_CACHE", "off")
	dir := t.TempDir()
	testsupport.Write(t, dir, "docs/alpha-2021.md", []byte("# Alpha 2021\n\nRevenue grew 12% to $40 million in 2021. The Zephyr lanterns sold 90,000 units.\n"))
	testsupport.Write(t, dir, "docs/alpha-2022.md", []byte("# Alpha 2022\n\nRevenue grew 8% to $43 million in 2022. We acquired Borealis Optics.\n"))
	cfg := testsupport.Write(t, dir, "config.yaml", []byte(configText))
	eng, err := distill.Open(context.Background(), distill.Options{DB: filepath.Join(dir, "db"), Create: true, ConfigFile: cfg, NoCache: true, Models: distill.Models{LLM: llm}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if _, err := eng.Ingest(context.Background(), []string{filepath.Join(dir, "docs")}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestAskWithLLM(t *testing.T) {
	srv := fakemodel.OpenAI(t, fakemodel.Reply("Revenue grew 12% in 2021 [1]."), fakemodel.Usage(400, 11))
	eng := openWithLLM(t, srv.URI("gpt-4o-mini"), "")
	res, err := eng.Ask(context.Background(), "How much did revenue grow in 2021?", "regular")
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "llm" || res.Answer != "Revenue grew 12% in 2021 [1]." {
		t.Errorf("result %s: %q", res.Mode, res.Answer)
	}
	if res.Stats.LLMCalls != 1 || res.Stats.PromptTokens != 400 || res.Stats.CompletionTokens != 11 || res.Stats.TokensEstimated {
		t.Errorf("stats %+v, want the provider's usage", res.Stats)
	}
	last := res.Stats.Stages[len(res.Stats.Stages)-1]
	if last.Name != "answer" || last.Calls != 1 || last.PromptTokens != 400 {
		t.Errorf("answer stage %+v", last)
	}
	prompt := srv.Prompts()[0]
	if !strings.Contains(prompt, "[1] (alpha-2021.md") || !strings.Contains(prompt, "Question: How much did revenue grow in 2021?") {
		t.Errorf("prompt:\n%s", prompt)
	}
}

func TestAskStreamAndPromptFile(t *testing.T) {
	srv := fakemodel.Ollama(t, fakemodel.Reply("Der Umsatz wuchs um 12 % [1]."))
	dir := t.TempDir()
	testsupport.Write(t, dir, "de.txt", []byte("Antworte auf Deutsch und zitiere [n].\n\n{context}\n\nFrage: {question}"))
	eng := openWithLLM(t, srv.URI("mixtral"), "answer:\n  prompt_file: "+filepath.Join(dir, "de.txt")+"\n")
	var toks []string
	res, err := eng.AskStream(context.Background(), "Wie stark wuchs der Umsatz 2021?", "regular", func(s string) error { toks = append(toks, s); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) < 3 || strings.Join(toks, "") != res.Answer || res.Mode != "llm" {
		t.Errorf("tokens %q, answer %q", toks, res.Answer)
	}
	if p := srv.Prompts()[0]; !strings.HasPrefix(p, "Antworte auf Deutsch") || !strings.Contains(p, "Frage: Wie stark wuchs der Umsatz 2021?") {
		t.Errorf("prompt:\n%s", p)
	}
}

func TestBadModelURIsAreClearErrors(t *testing.T) {
	t.Setenv("DISTILL_EMBED_CACHE", "off")
	for uri, want := range map[string]string{
		"nosuch:model":                "no language model provider",
		"openai:gpt?temprature=0.1":   "unknown option",
		"ollama:mixtral?max_tokens=x": "max_tokens",
	} {
		_, err := distill.Open(context.Background(), distill.Options{DB: filepath.Join(t.TempDir(), "db"), Create: true, Models: distill.Models{LLM: uri}})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), uri) {
			t.Errorf("Open with --llm %s: %v, want an error naming the URI and %q", uri, err, want)
		}
	}
}

func TestCLIAskStream(t *testing.T) {
	bin := testsupport.Binary(t)
	srv := fakemodel.OpenAI(t, fakemodel.Reply("Revenue grew 12% in 2021 [1]."))
	dir := t.TempDir()
	testsupport.Write(t, dir, "docs/alpha.md", []byte("Revenue grew 12% to $40 million in 2021.\n"))
	env := append(os.Environ(), "DISTILL_DB="+filepath.Join(dir, "db"), "DISTILL_CONFIG="+filepath.Join(dir, "none.yaml"), "DISTILL_EMBED_CACHE=off")
	testsupport.Write(t, dir, "none.yaml", []byte(""))
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("ingest", filepath.Join(dir, "docs")); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	out, err := run("--llm", srv.URI("gpt-4o-mini"), "ask", "--stream", "-t", "regular", "How much did revenue grow?")
	if err != nil {
		t.Fatalf("ask --stream: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "Revenue grew 12% in 2021 [1].\n\nSources:") || !strings.Contains(out, "regular · llm") {
		t.Errorf("ask --stream printed:\n%s", out)
	}
	if srv.Last().JSON()["stream"] != true {
		t.Error("the CLI did not stream")
	}
	if out, err := run("ask", "--stream", "--json", "q"); err == nil || !strings.Contains(out, "--stream") {
		t.Errorf("ask --stream --json: %v\n%s", err, out)
	}
}
