package cli

import (
	"runtime/debug"
	"strings"
)

// Version, when set at build time (-ldflags "-X
// github.com/distill-rag/distill/internal/cli.Version=v1.2.3", as the
// release build does), is the version --version prints; otherwise the
// module version and VCS revision the Go toolchain recorded are.
var Version = ""

// version describes this build: the version, the commit (with "+dirty"
// for uncommitted changes) and the commit time, and "lite" for the lite
// build.
func version() string {
	bi, _ := debug.ReadBuildInfo()
	return describeBuild(Version, bi)
}

func describeBuild(set string, bi *debug.BuildInfo) string {
	v := set
	var rev, when, tags string
	modified := false
	if bi != nil {
		if v == "" {
			v = bi.Main.Version // "v1.2.3" from go install ...@v1.2.3; "(devel)" in a checkout
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "-tags":
				tags = s.Value
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var extra []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified {
			rev += "+dirty"
		}
		extra = append(extra, "commit "+rev)
	}
	if when != "" {
		extra = append(extra, when)
	}
	for _, t := range strings.Split(tags, ",") {
		if t == "lite" {
			extra = append(extra, "lite build")
		}
	}
	if len(extra) == 0 {
		return v
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}
