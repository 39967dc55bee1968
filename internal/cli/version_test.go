package cli

import (
	"runtime/debug"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	cases := []struct {
		name string
		set  string
		bi   *debug.BuildInfo
		want string
	}{
		{"go install of a release", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0"},
		{"a checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings(
			"vcs.revision", "4309e4b0123456789abcdef", "vcs.time", "2026-12-03T12:00:00Z", "vcs.modified", "false")},
			"devel (commit 4309e4b01234, 2026-12-03T12:00:00Z)"},
		{"uncommitted changes", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings(
			"vcs.revision", "4309e4b0123456789abcdef", "vcs.modified", "true")}, "devel (commit 4309e4b01234+dirty)"},
		{"the lite build", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}, Settings: settings("-tags", "lite")}, "v0.4.0 (lite build)"},
		{"set by the release build", "v0.5.0", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", "abc")}, "v0.5.0 (commit abc)"},
		{"no build information", "", nil, "devel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := describeBuild(c.set, c.bi); got != c.want {
				t.Errorf("describeBuild = %q, want %q", got, c.want)
			}
		})
	}
}
