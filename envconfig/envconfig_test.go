package envconfig_test

import (
	"errors"
	"testing"

	"github.com/distill-rag/distill/envconfig"
)

func TestCacheMax(t *testing.T) {
	cases := []struct {
		value   string
		want    int64
		wantErr bool
	}{
		{"", envconfig.DefaultCacheMax, false},
		{"off", 0, false},
		{"0", 0, false},
		{"500MB", 500_000_000, false},
		{"2GiB", 2 << 30, false},
		{"1024", 1024, false},
		{"lots", 0, true},
		{"-5MB", 0, true},
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			t.Setenv("DISTILL_CACHE_MAX", c.value)
			got, err := envconfig.CacheMax()
			var ve *envconfig.VarError
			if c.wantErr != (err != nil) || (err != nil && !errors.As(err, &ve)) || got != c.want {
				t.Fatalf("CacheMax() = %d, %v; want %d (error %v)", got, err, c.want, c.wantErr)
			}
		})
	}
}
