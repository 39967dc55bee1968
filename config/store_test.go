package config

import (
	"strings"
	"testing"
)

func TestStoreKey(t *testing.T) {
	base, err := Parse("<built-in>", DefaultYAML(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml, want, wantErr string
	}{
		{name: "set", yaml: "store: weaviate:http://127.0.0.1:8080?collection=Letters\n", want: "weaviate:http://127.0.0.1:8080?collection=Letters"},
		{name: "absent keeps the default", yaml: "answer: {max_sentences: 2}\n", want: ""},
		{name: "not a string", yaml: "store: {uri: x}\n", wantErr: "user.yaml:1"},
		{name: "misspelt", yaml: "stores: x\n", wantErr: "stores: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("user.yaml", []byte(tc.yaml), base)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Store != tc.want {
				t.Fatalf("Store = %q, want %q", cfg.Store, tc.want)
			}
		})
	}
}
