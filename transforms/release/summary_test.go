package release

import (
	"runtime/debug"
	"testing"
)

func TestCodeRevision(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"}}}
	dirty := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	installed := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}
	bare := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	for _, tt := range []struct {
		name, linked string
		info         *debug.BuildInfo
		ok           bool
		want         string
	}{
		{"link-time revision wins", "rel-7", stamped, true, "rel-7"},
		{"VCS stamp", "", stamped, true, "abc123"},
		{"uncommitted changes", "", dirty, true, "abc123+dirty"},
		{"go install module@version", "", installed, true, "v1.2.0"},
		{"no stamp (-buildvcs=false)", "", bare, true, "unknown"},
		{"no build info", "", nil, false, "unknown"},
	} {
		if got := codeRevision(tt.linked, tt.info, tt.ok); got != tt.want {
			t.Errorf("%s: codeRevision = %q, want %q", tt.name, got, tt.want)
		}
	}
}
