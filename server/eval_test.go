package server_test

import (
	"strings"
	"testing"

	"github.com/distill-rag/distill/eval"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/server"
)

const qaLines = `{"question": "What did Alpha Widgets acquire in 2022?", "answers": ["Borealis Optics"]}

{"id": "zephyr", "question": "What happened to the Zephyr line?", "answers": ["recall"], "reference": "It was recalled."}
`

func TestEval(t *testing.T) {
	e := start(t).withLetters()
	var rep eval.QAJSON
	e.do("POST", "/v1/collections/default/eval?techniques=regular,extract&name=letters.jsonl", qaLines,
		"Content-Type", "application/x-ndjson").ok(t, 200, &rep)
	if rep.Dataset != "letters.jsonl" || rep.Questions != 2 || len(rep.Results) != 2 || rep.Results[0].Technique != "regular" || rep.Results[1].Technique != "extract" {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Results {
		if r.HitRate == nil || *r.HitRate != 1 || r.F1 == nil || r.ContextChars <= 0 || r.Faithfulness != nil {
			t.Errorf("%s: %+v", r.Technique, r)
		}
	}
	// The same set as a JSON array, all techniques that can run.
	array := `[{"question": "What did Alpha Widgets acquire in 2022?", "answers": ["Borealis Optics"]},
		{"question": "What happened to the Zephyr line?", "reference": "It was recalled."}]`
	var all eval.QAJSON
	e.do("POST", "/v1/collections/default/eval", array).ok(t, 200, &all)
	if all.Questions != 2 || len(all.Results) < 4 || all.Dataset != "questions" {
		t.Errorf("all techniques: %+v", all)
	}
	// strict=false skips a bad line and says so.
	var lenient eval.QAJSON
	e.do("POST", "/v1/collections/default/eval?strict=false&techniques=regular", qaLines+`{"question": "x"}`+"\n").ok(t, 200, &lenient)
	if lenient.Questions != 2 || !strings.Contains(lenient.Skipped, "questions:4") {
		t.Errorf("lenient: %+v", lenient)
	}
}

func TestEvalBadInput(t *testing.T) {
	e := start(t, func(c *server.Config) { c.MaxBody = 4096 }).withLetters()
	tests := []struct {
		name   string
		query  string
		body   string
		ct     string
		status int
		want   string // in the error message
		param  string
	}{
		{"bad line", "", qaLines + `{"question": "Who?", "answer": "x"}` + "\n", "application/x-ndjson", 400, `questions:4: not a question object: json: unknown field "answer"`, ""},
		{"no answers", "?name=set.jsonl", `{"question": "Who?"}`, "", 400, `set.jsonl:1: needs "answers"`, ""},
		{"bad array item", "", "[\n{\"question\": \"Who?\", \"answers\": [\"a\"]},\n{\"answers\": [\"a\"]}]", "application/json", 400, `questions:3: item 1: no "question"`, ""},
		{"empty", "", "\n", "", 400, "questions: holds no questions", ""},
		{"unknown technique", "?techniques=regular,magic", qaLines, "", 400, `unknown technique "magic"`, "technique"},
		{"unknown parameter", "?technique=regular", qaLines, "", 400, `unknown query parameter "technique"`, "technique"},
		{"bad strict", "?strict=maybe", qaLines, "", 400, `strict="maybe"`, "strict"},
		{"no judge", "?judge=true", qaLines, "", 400, "--judge", "judge"},
		{"too large", "", strings.Repeat(qaLines, 40), "", 413, "over the limit", ""},
		{"not JSON", "", qaLines, "application/pdf", 415, "application/pdf", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var header []string
			if tc.ct != "" {
				header = []string{"Content-Type", tc.ct}
			}
			r := e.do("POST", "/v1/collections/default/eval"+tc.query, tc.body, header...)
			var body struct {
				Error struct {
					Message string
					Type    string
					Param   *string
				}
			}
			r.ok(t, tc.status, &body)
			if !strings.Contains(body.Error.Message, tc.want) {
				t.Errorf("message %q, want it to hold %q", body.Error.Message, tc.want)
			}
			if param := ""; tc.param != "" {
				if body.Error.Param != nil {
					param = *body.Error.Param
				}
				if param != tc.param {
					t.Errorf("param %q, want %q", param, tc.param)
				}
			}
		})
	}
	e.do("POST", "/v1/collections/nothere/eval", qaLines).ok(t, 404, nil)
}

func TestEvalWithJudge(t *testing.T) {
	judge := &fakemodel.LLM{ModelName: "fake:judge", Reply: func(req model.Request) (string, error) {
		p := fakemodel.Prompt(req)
		switch {
		case strings.Contains(p, "standalone factual statements"):
			return "Alpha Widgets acquired Borealis Optics.", nil
		case strings.Contains(p, "directly inferred from the context"):
			return "1: YES", nil
		}
		return "What did Alpha Widgets acquire in 2022?", nil
	}}
	uri := fakellm.Register(t.Name(), judge)
	e := start(t, func(c *server.Config) { c.Judge = uri }).withLetters()
	var rep eval.QAJSON
	e.do("POST", "/v1/collections/default/eval?judge=true&techniques=regular",
		`{"question": "What did Alpha Widgets acquire in 2022?", "answers": ["Borealis Optics"]}`).ok(t, 200, &rep)
	if rep.Judge != "fake:judge" || rep.JudgeCost == nil || rep.JudgeCost.Calls != 3 || len(judge.Requests()) != 3 {
		t.Fatalf("judge %q, cost %+v, %d calls", rep.Judge, rep.JudgeCost, len(judge.Requests()))
	}
	if r := rep.Results[0]; r.Faithfulness == nil || *r.Faithfulness != 1 || r.AnswerRelevancy == nil {
		t.Errorf("judged %+v", r)
	}
}
