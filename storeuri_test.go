package distill

import (
	"testing"

	"github.com/distill-rag/distill/config"
)

func TestStoreURI(t *testing.T) {
	const w = "weaviate:http://127.0.0.1:8080?collection=Letters"
	tests := []struct {
		name     string
		opts     Options
		env, db  string
		cfgStore string
		want     string
	}{
		{name: "flag wins", opts: Options{Store: w, DB: "/d"}, env: "weaviate:http://other", cfgStore: "weaviate:http://cfg", want: w},
		{name: "--db beats environment and config", opts: Options{DB: "/d"}, env: w, cfgStore: "weaviate:http://cfg", want: "/d"},
		{name: "environment beats config", env: w, cfgStore: "weaviate:http://cfg", want: w},
		{name: "config", cfgStore: w, want: w},
		{name: "default embedded", db: "/data/default", want: "/data/default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DISTILL_STORE", tc.env)
			t.Setenv("DISTILL_DB", tc.db)
			if got := StoreURI(tc.opts, &config.Config{Store: tc.cfgStore}); got != tc.want {
				t.Fatalf("StoreURI = %q, want %q", got, tc.want)
			}
		})
	}
}
