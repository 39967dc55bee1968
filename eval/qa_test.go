package eval

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
)

func TestLoadQA(t *testing.T) {
	good := `{"question": "Who?", "answers": ["Ada", " "]}
{"question": "What?", "reference": "A machine."}

{"id": "x", "question": "Both?", "answers": ["yes"], "reference": "Yes."}
`
	tests := []struct {
		name string
		line string
		want string
	}{
		{"malformed", `{"question": "Who?"`, "qa.jsonl:5: not a question object"},
		{"no question", `{"answers": ["a"]}`, `qa.jsonl:5: no "question"`},
		{"nothing to compare", `{"question": "Who?", "answers": [""]}`, `qa.jsonl:5: needs "answers"`},
		{"misspelt field", `{"question": "Who?", "answer": "Ada"}`, `qa.jsonl:5: not a question object: json: unknown field "answer"`},
		{"answers not a list", `{"question": "Who?", "answers": "Ada"}`, "qa.jsonl:5: not a question object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := testsupport.Write(t, t.TempDir(), "qa.jsonl", []byte(good+tc.line+"\n"))
			_, err := LoadQA(context.Background(), path, true)
			var de *DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("strict: %v, want %q", err, tc.want)
			}
			set, err := LoadQA(context.Background(), path, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Items) != 3 || set.Skipped.Count() != 1 {
				t.Errorf("lenient: %d items, %d skipped", len(set.Items), set.Skipped.Count())
			}
			if it := set.Items[0]; it.ID != "1" || !slices.Equal(it.Answers, []string{"Ada"}) || set.Items[2].ID != "x" || set.Items[2].Line != 4 {
				t.Errorf("items %+v", set.Items)
			}
		})
	}
	if _, err := LoadQA(context.Background(), filepath.Join(t.TempDir(), "none.jsonl"), false); err == nil || !strings.Contains(err.Error(), "none.jsonl: no such file") {
		t.Errorf("missing file: %v", err)
	}
	empty := testsupport.Write(t, t.TempDir(), "empty.jsonl", []byte("\n"))
	if _, err := LoadQA(context.Background(), empty, false); err == nil || !strings.Contains(err.Error(), "holds no questions") {
		t.Errorf("empty file: %v", err)
	}
}

func TestTokenF1(t *testing.T) {
	tests := []struct {
		answer, ref string
		want        float64
	}{
		{"The Eiffel Tower", "eiffel tower", 1},                   // articles, case
		{"Paris, France.", "Paris", 2 * 0.5 * 1 / 1.5},            // p=1/2, r=1
		{"in the year 1889", "1889, in Paris", 2.0 / 3},           // common {in, 1889}: p=2/3, r=2/3
		{"nothing here", "something else", 0},                     // no overlap
		{"", "", 1},                                               // both empty
		{"", "x", 0},                                              // empty answer
		{"rain rain rain", "rain", 2 * (1.0 / 3) * 1 / (4.0 / 3)}, // repeats count once each
	}
	for _, tc := range tests {
		if got := TokenF1(tc.answer, tc.ref); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("F1(%q, %q) = %v, want %v", tc.answer, tc.ref, got, tc.want)
		}
	}
}

// asker answers from a script, per question.
type asker struct {
	answers  map[string]string
	contexts map[string][]string
}

func (a *asker) Techniques() []distill.TechniqueInfo { return []distill.TechniqueInfo{{Name: "t"}} }

func (a *asker) Ask(ctx context.Context, q, technique string, _ ...distill.QueryOption) (*distill.Result, error) {
	res := &distill.Result{Question: q, Technique: technique, Answer: a.answers[q], Mode: "extractive"}
	for i, text := range a.contexts[q] {
		res.Contexts = append(res.Contexts, distill.Context{Rank: i + 1, Passage: document.Passage{Text: text, Source: "/doc.txt"}})
		res.Stats.ContextChars += len(text)
	}
	return res, nil
}

func TestRunQA(t *testing.T) {
	set := &QASet{Name: "qa.jsonl", Items: []QAItem{
		{ID: "1", Question: "Who wrote it?", Answers: []string{"Ada Lovelace"}},
		{ID: "2", Question: "When?", Answers: []string{"1843"}, Reference: "In 1843."},
		{ID: "3", Question: "What is it?", Reference: "An analytical engine program."},
	}}
	a := &asker{
		answers: map[string]string{
			"Who wrote it?": "It was written by ADA  lovelace.",
			"When?":         "In 1842.",
			"What is it?":   "A program for the analytical engine.",
		},
		contexts: map[string][]string{
			"Who wrote it?": {"Charles Babbage built engines.", "Notes by Ada\nLovelace appeared."},
			"When?":         {"Nothing about dates."},
			"What is it?":   {"The engine."},
		},
	}
	rep, err := RunQA(context.Background(), a, set, QAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{HitRate, FirstHitRank, Containment, F1}; !slices.Equal(rep.Metrics, want) {
		t.Errorf("metrics %v", rep.Metrics)
	}
	q := rep.Questions
	// question 1: the answer is in context 2 (across a line break) and in the answer
	if v := q[0].Runs[0].Values; v[HitRate] != 1 || v[FirstHitRank] != 2 || v[Containment] != 1 {
		t.Errorf("q1 %v", v)
	}
	// question 2: neither context nor answer hold 1843; F1 against the reference: {in} of {in, 1842} and {in, 1843}
	if v := q[1].Runs[0].Values; v[HitRate] != 0 || v[Containment] != 0 || v[F1] != 0.5 {
		t.Errorf("q2 %v", v)
	}
	if _, ok := q[1].Runs[0].Values[FirstHitRank]; ok {
		t.Error("q2 has a first-hit rank without a hit")
	}
	// question 3 has no answers: no hit rate; F1: {program, analytical, engine} common; p=3/4 ("for"), r=3/3... "an" dropped
	if v := q[2].Runs[0].Values; math.Abs(v[F1]-2*0.75*1/1.75) > 1e-4 {
		t.Errorf("q3 %v", v)
	}
	if _, ok := q[2].Runs[0].Values[HitRate]; ok {
		t.Error("q3 has a hit rate without answers")
	}
	sum := rep.Results[0].Values
	if sum[HitRate] != 0.5 || sum[FirstHitRank] != 2 || sum[Containment] != 0.5 {
		t.Errorf("summary %v", sum)
	}
	js := rep.QAJSON()
	if js.Questions != 3 || js.Results[0].HitRate == nil || *js.Results[0].HitRate != 0.5 || js.Results[0].Faithfulness != nil {
		t.Errorf("json %+v", js.Results[0])
	}
}

// judgeLLM answers the default judge prompts from a script.
func judgeLLM(statements, verdicts, questions string) *fakemodel.LLM {
	return &fakemodel.LLM{Reply: func(req model.Request) (string, error) {
		p := fakemodel.Prompt(req)
		switch {
		case strings.Contains(p, "standalone factual statements"):
			return statements, nil
		case strings.Contains(p, "directly inferred from the context"):
			return verdicts, nil
		case strings.Contains(p, "questions that the answer below answers"):
			return questions, nil
		}
		return "", errors.New("unexpected prompt: " + p)
	}}
}

func TestJudge(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name                            string
		statements, verdicts, questions string
		faith, relevancy                float64
	}{
		{"half supported", "- Statins lower cholesterol.\n- Statins cure all cancers.", "1: YES\n2: NO", "Do statins lower cholesterol?", 0.5, 1},
		{"verdicts without numbers", "Statins lower cholesterol.\nThey are cheap.\nThey are new.", "Yes.\nyes\nNo, not stated.", "What lowers cholesterol?\nDo statins lower cholesterol?", 2.0 / 3, (2/math.Sqrt(6) + 1) / 2},
		{"missing verdict counts against", "1. A.\n2. B.", "2: yes", "Unrelated words entirely?", 0.5, 0},
		{"noncommittal", "A.", "1: YES", "NONCOMMITTAL", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			llm := judgeLLM(tc.statements, tc.verdicts, tc.questions)
			j := &Judge{LLM: llm, Prompts: DefaultPrompts()}
			f, u, err := j.Faithfulness(ctx, "Do statins lower cholesterol?", "Statins lower cholesterol and cure all cancers.", []string{"Statins lower cholesterol."})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(f-tc.faith) > 1e-9 || u.Calls != 2 || u.PromptTokens == 0 {
				t.Errorf("faithfulness %v (usage %+v), want %v", f, u, tc.faith)
			}
			r, _, err := j.Relevancy(ctx, "Do statins lower cholesterol?", "They do.")
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r-tc.relevancy) > 1e-9 {
				t.Errorf("relevancy %v, want %v", r, tc.relevancy)
			}
			verdictPrompt := fakemodel.Prompt(llm.Requests()[1])
			if !strings.Contains(verdictPrompt, "Statins lower cholesterol.") || !strings.Contains(verdictPrompt, "1. ") {
				t.Errorf("verdict prompt lacks the context or numbered statements:\n%s", verdictPrompt)
			}
			if temp := llm.Requests()[0].Temperature; temp == nil || *temp != 0 {
				t.Error("the judge does not ask for temperature 0")
			}
		})
	}
}

func TestJudgeRelevancyWithEmbedder(t *testing.T) {
	j := &Judge{LLM: judgeLLM("", "", "Do statins lower cholesterol?\ndo STATINS lower cholesterol"), Embedder: &fakemodel.Embedder{}, Prompts: DefaultPrompts()}
	r, _, err := j.Relevancy(context.Background(), "Do statins lower cholesterol?", "Yes.")
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r-1) > 1e-6 {
		t.Errorf("relevancy %v, want 1 for the same question", r)
	}
	if !strings.Contains(j.note(), "fake:embed") {
		t.Errorf("note %q", j.note())
	}
}

func TestJudgePromptsAreReplaceable(t *testing.T) {
	dir := t.TempDir()
	path := testsupport.Write(t, dir, "prompts.yaml", []byte("statements: |\n  Zerlege die Antwort: {{.Answer}}\n"))
	p, err := LoadPrompts(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Verdicts != DefaultPrompts().Verdicts {
		t.Error("a key left out lost its default")
	}
	llm := &fakemodel.LLM{Reply: func(model.Request) (string, error) { return "", nil }}
	j := &Judge{LLM: llm, Prompts: p}
	f, _, err := j.Faithfulness(context.Background(), "q", "Die Antwort.", nil)
	if err != nil || f != -1 {
		t.Fatalf("faithfulness %v, %v; want -1 for no statements", f, err)
	}
	if got := fakemodel.Prompt(llm.Requests()[0]); got != "Zerlege die Antwort: Die Antwort.\n" {
		t.Errorf("prompt %q", got)
	}

	bad := []struct{ name, yaml, want string }{
		{"unknown key", "statement: x\n", "statement"},
		{"bad template", "verdicts: \"{{.Context\"\n", "verdicts:"},
		{"empty prompt", "questions: \"\"\n", "questions: the prompt is empty"},
		{"unknown field", "questions: \"{{.Nope}}\"\n", ""},
	}
	for _, tc := range bad {
		path := testsupport.Write(t, dir, tc.name+".yaml", []byte(tc.yaml))
		_, err := LoadPrompts(path)
		if tc.want == "" {
			// a field the judge does not provide fails when used, naming the prompt
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			p, _ := LoadPrompts(path)
			_, _, err = (&Judge{LLM: llm, Prompts: p}).Relevancy(context.Background(), "q", "a")
			if err == nil || !strings.Contains(err.Error(), "questions prompt") {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want the file and %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadPrompts(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRunQAWithJudge(t *testing.T) {
	set := &QASet{Name: "qa", Items: []QAItem{{ID: "1", Question: "Do statins lower cholesterol?", Reference: "Yes."}}}
	a := &asker{answers: map[string]string{"Do statins lower cholesterol?": "Statins lower cholesterol."}}
	llm := judgeLLM("Statins lower cholesterol.", "1: YES", "Do statins lower cholesterol?")
	rep, err := RunQA(context.Background(), a, set, QAOptions{Judge: &Judge{LLM: llm, Prompts: DefaultPrompts()}})
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Results[0].Values
	if v[Faithfulness] != 1 || v[AnswerRelevancy] != 1 || rep.JudgeCost.Calls != 3 || rep.Judge != "fake:llm" {
		t.Errorf("values %v, judge %s cost %+v", v, rep.Judge, rep.JudgeCost)
	}
	if js := rep.QAJSON(); js.JudgeCost == nil || js.Results[0].Faithfulness == nil {
		t.Errorf("json %+v", js)
	}
}

func TestReadQA(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		strict  bool
		want    []string // question ids kept
		wantErr string
		skipped int
	}{
		{"lines", "\n\n{\"question\": \"Who?\", \"answers\": [\"Ada\"]}\n{\"question\": \"What?\", \"reference\": \"A machine.\"}\n", true, []string{"3", "4"}, "", 0},
		{"array", `[{"question": "Who?", "answers": ["Ada"]}, {"id": "q2", "question": "What?", "reference": "A machine."}]`, true, []string{"0", "q2"}, "", 0},
		{"array over lines", "[\n {\"question\": \"Who?\", \"answers\": [\"Ada\"]},\n {\"question\": \"\", \"answers\": [\"x\"]}\n]", true, nil, `body:3: item 1: no "question"`, 0},
		{"array, lenient", "[\n {\"question\": \"Who?\", \"answers\": [\"Ada\"]},\n {\"question\": \"What?\", \"answer\": \"x\"}\n]", false, []string{"0"}, "", 1},
		{"bad line", "{\"question\": \"Who?\", \"answers\": [\"Ada\"]}\n\n{\"question\": \"Who?\"\n", true, nil, "body:3: not a question object", 0},
		{"malformed array", `[{"question": "Who?", "answers": ["Ada"]},`, true, nil, "body:1: not a JSON array of question objects", 0},
		{"more after the array", `[{"question": "Who?", "answers": ["Ada"]}] {}`, true, nil, "body:1: more after the JSON array", 0},
		{"item not an object", `[{"question": "Who?", "answers": ["Ada"]}, 3]`, true, nil, "body:1: item 1: not a question object", 0},
		{"empty", "  \n", true, nil, "body: holds no questions", 0},
		{"empty array", "[]", true, nil, "body: holds no questions", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := ReadQA(context.Background(), strings.NewReader(tc.body), "body", tc.strict)
			if tc.wantErr != "" {
				var de *DataError
				if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want a DataError starting %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range set.Items {
				ids = append(ids, it.ID)
			}
			if !slices.Equal(ids, tc.want) || set.Skipped.Count() != tc.skipped {
				t.Errorf("ids %v, skipped %d; want %v, %d", ids, set.Skipped.Count(), tc.want, tc.skipped)
			}
		})
	}
}
