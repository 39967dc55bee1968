package eval

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/textproc"
)

//go:embed judge.yaml
var judgeYAML []byte

// Prompts are the judge's prompt templates (text/template); see judge.yaml
// for the fields each one gets and the reply it asks for.
type Prompts struct {
	Statements string `yaml:"statements"`
	Verdicts   string `yaml:"verdicts"`
	Questions  string `yaml:"questions"`
}

// DefaultPrompts returns the built-in prompts.
func DefaultPrompts() Prompts {
	p, err := parsePrompts("<built-in>", judgeYAML, Prompts{})
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return p
}

// LoadPrompts reads a YAML file replacing some or all of the default
// prompts; unknown keys and templates that do not parse are errors naming
// the file and key.
func LoadPrompts(path string) (Prompts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Prompts{}, &DataError{File: path, Msg: "cannot read: " + strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	return parsePrompts(path, data, DefaultPrompts())
}

func parsePrompts(name string, data []byte, base Prompts) (Prompts, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Prompts{}, &DataError{File: name, Msg: err.Error()}
	}
	p := base
	if len(doc.Content) > 0 {
		if err := config.Decode(name, "", doc.Content[0], &p); err != nil {
			return Prompts{}, err
		}
	}
	for key, text := range map[string]string{"statements": p.Statements, "verdicts": p.Verdicts, "questions": p.Questions} {
		if strings.TrimSpace(text) == "" {
			return Prompts{}, &DataError{File: name, Msg: key + ": the prompt is empty"}
		}
		if _, err := newTemplate(key, text); err != nil {
			return Prompts{}, &DataError{File: name, Msg: key + ": " + err.Error()}
		}
	}
	return p, nil
}

func newTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(text)
}

// Judge rates answers with an LLM, in the spirit of ragas: faithfulness is
// the share of the answer's statements that the context supports;
// answer relevancy is how similar the questions the answer would answer are
// to the question asked.
type Judge struct {
	LLM model.LLM
	// Embedder compares questions for answer relevancy, as ragas does;
	// without one the comparison is the cosine of their content terms.
	Embedder model.Embedder
	Prompts  Prompts
	// Questions is how many questions are generated per answer; 0 means 3.
	Questions int
}

func (j *Judge) note() string {
	how := "the cosine of content terms (no embedding model configured)"
	if j.Embedder != nil {
		how = "embedding cosine with " + j.Embedder.Name()
	}
	return fmt.Sprintf("judged by %s; answer relevancy compares generated questions by %s", j.LLM.Name(), how)
}

func (j *Judge) generate(ctx context.Context, name, text string, data any) (string, cost.Usage, error) {
	t, err := newTemplate(name, text)
	if err != nil {
		return "", cost.Usage{}, fmt.Errorf("%s prompt: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", cost.Usage{}, fmt.Errorf("%s prompt: %w", name, err)
	}
	zero := 0.0
	resp, err := j.LLM.Generate(ctx, model.Request{Messages: []model.Message{{Role: "user", Content: b.String()}}, Temperature: &zero, MaxTokens: 1024})
	u := resp.Usage
	if u.Calls == 0 {
		u.Calls = 1
	}
	if err != nil {
		return "", u, fmt.Errorf("%s: %w", j.LLM.Name(), err)
	}
	return resp.Text, u, nil
}

// Faithfulness is the share of the answer's statements that can be
// inferred from the contexts, or -1 when the answer makes no statement.
func (j *Judge) Faithfulness(ctx context.Context, question, answer string, contexts []string) (float64, cost.Usage, error) {
	text, usage, err := j.generate(ctx, "statements", j.Prompts.Statements, map[string]any{"Question": question, "Answer": answer})
	if err != nil {
		return 0, usage, err
	}
	statements := replyLines(text)
	if len(statements) == 0 {
		return -1, usage, nil
	}
	text, u, err := j.generate(ctx, "verdicts", j.Prompts.Verdicts, map[string]any{
		"Context": strings.Join(contexts, "\n\n"), "Statements": statements,
	})
	usage = usage.Add(u)
	if err != nil {
		return 0, usage, err
	}
	verdicts := parseVerdicts(text, len(statements))
	supported := 0
	for _, v := range verdicts {
		if v {
			supported++
		}
	}
	return float64(supported) / float64(len(statements)), usage, nil
}

// Relevancy is the mean similarity between the question and the questions
// the judge generates from the answer; 0 for a noncommittal answer.
func (j *Judge) Relevancy(ctx context.Context, question, answer string) (float64, cost.Usage, error) {
	n := j.Questions
	if n <= 0 {
		n = 3
	}
	text, usage, err := j.generate(ctx, "questions", j.Prompts.Questions, map[string]any{"Answer": answer, "N": n})
	if err != nil {
		return 0, usage, err
	}
	if strings.Contains(strings.ToUpper(text), "NONCOMMITTAL") {
		return 0, usage, nil
	}
	generated := replyLines(text)
	if len(generated) > n {
		generated = generated[:n]
	}
	if len(generated) == 0 {
		return 0, usage, nil
	}
	var sims []float64
	if j.Embedder != nil {
		vecs, err := j.Embedder.Embed(ctx, append([]string{question}, generated...), model.ForQuery)
		if err != nil {
			return 0, usage, fmt.Errorf("%s: %w", j.Embedder.Name(), err)
		}
		if len(vecs) != len(generated)+1 {
			return 0, usage, fmt.Errorf("%s: %d vectors for %d texts", j.Embedder.Name(), len(vecs), len(generated)+1)
		}
		for _, v := range vecs[1:] {
			sims = append(sims, cosine(vecs[0], v))
		}
	} else {
		q := termCounts(question)
		for _, g := range generated {
			sims = append(sims, termCosine(q, termCounts(g)))
		}
	}
	return mean(sims), usage, nil
}

var listMarker = regexp.MustCompile(`^\s*(?:[-*•]|\d+[.):])\s*`)

// replyLines are the non-empty lines of a reply, without list markers.
func replyLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(listMarker.ReplaceAllString(l, ""))
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

var verdictLine = regexp.MustCompile(`(?i)^\W*(?:statement\s*)?(\d+)\W*?\s*(yes|no)\b`)

// parseVerdicts reads "N: YES" / "N: NO" lines; a statement without a
// verdict counts as unsupported. Lines without numbers are taken in order.
func parseVerdicts(text string, n int) []bool {
	out := make([]bool, n)
	next := 0
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if m := verdictLine.FindStringSubmatch(l); m != nil {
			i, _ := strconv.Atoi(m[1])
			if i >= 1 && i <= n {
				out[i-1] = strings.EqualFold(m[2], "yes")
				next = i
			}
			continue
		}
		w := strings.ToLower(strings.Trim(strings.Fields(l + " x")[0], ".,:;!\"'"))
		if (w == "yes" || w == "no") && next < n {
			out[next] = w == "yes"
			next++
		}
	}
	return out
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func termCounts(s string) map[string]float64 {
	out := map[string]float64{}
	for _, t := range textproc.Content.Terms(s) {
		out[t]++
	}
	return out
}

func termCosine(a, b map[string]float64) float64 {
	var dot, na, nb float64
	for t, v := range a {
		dot += v * b[t]
		na += v * v
	}
	for _, v := range b {
		nb += v * v
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// OpenJudge opens the judge an LLM URI names, with the embedding model URI
// (may be empty) for answer relevancy and an optional prompts file.
func OpenJudge(ctx context.Context, llmURI, embedURI, promptsFile string) (*Judge, error) {
	llm, err := model.OpenLLM(ctx, llmURI)
	if err != nil {
		return nil, err
	}
	if llm == nil {
		return nil, &model.URIError{URI: llmURI, Reason: "a judge needs a language model"}
	}
	emb, err := model.OpenEmbedder(ctx, embedURI)
	if err != nil {
		return nil, err
	}
	j := &Judge{LLM: llm, Embedder: emb, Prompts: DefaultPrompts()}
	if promptsFile != "" {
		if j.Prompts, err = LoadPrompts(promptsFile); err != nil {
			return nil, err
		}
	}
	return j, nil
}
