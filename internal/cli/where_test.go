package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

func TestAskAndCompareWhere(t *testing.T) {
	r := newRunner(t)
	db := filepath.Join(t.TempDir(), "coll")
	dir := t.TempDir()
	testsupport.Write(t, dir, "2020/letter.txt", []byte("The lighthouse keeper wrote about the harbour. The lighthouse lamp was repaired in spring."))
	testsupport.Write(t, dir, "2024/letter.txt", []byte("Lighthouse, lighthouse, lighthouse: the lighthouse lamp, the lighthouse keeper and the lighthouse harbour lighthouse."))
	r.ok("--db", db, "ingest", "--meta", "year=2020", filepath.Join(dir, "2020"))
	r.ok("--db", db, "ingest", "--meta", "year=2024", filepath.Join(dir, "2024"))

	ask := func(args ...string) askJSON {
		t.Helper()
		var a askJSON
		out := r.ok(append([]string{"--db", db, "ask", "--json", "-t", "regular"}, args...)...)
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := ask("lighthouse lamp"); len(a.Contexts) == 0 || !strings.Contains(a.Contexts[0].Source, "2024") {
		t.Fatalf("unfiltered first context = %+v, want the 2024 letter", a.Contexts)
	}
	for _, where := range [][]string{{"--where", "year=2020"}, {"--where", "year<2021", "--where", "source~*/2020/*"}, {"--where", "year!=2024"}} {
		a := ask(append(where, "lighthouse lamp")...)
		if len(a.Contexts) == 0 {
			t.Fatalf("%v: no contexts", where)
		}
		for _, c := range a.Contexts {
			if !strings.Contains(c.Source, "2020") {
				t.Fatalf("%v returned %s", where, c.Source)
			}
		}
	}
	out := r.ok("--db", db, "compare", "--json", "--techniques", "regular,parent", "--where", "year=2020", "lighthouse lamp")
	if strings.Contains(out, "2024") || !strings.Contains(out, "2020") {
		t.Fatalf("compare --where year=2020 = %s", out)
	}

	// Mistakes are plain errors naming the expression and key.
	for _, tc := range []struct{ where, want string }{
		{"year", `--where: filter "year": has no operator`},
		{"year>soon", `key "year" compares with > "soon"`},
		{"colour=red", `filter "colour=red": key "colour" is not a key of any document`},
	} {
		_, errOut, code := r.run("--db", db, "ask", "-t", "regular", "--where", tc.where, "lighthouse")
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("--where %s: exit %d, stderr %q, want %q", tc.where, code, errOut, tc.want)
		}
	}
}
