package cli

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Version says which build a binary is: its module version (a tag when
// installed with go install, "(devel)" in a checkout), the VCS revision and
// time it was built from (with "+dirty" when the tree had changes), and the
// Go version.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown build"
	}
	version := bi.Main.Version
	var rev, when, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	var parts []string
	if rev != "" {
		parts = append(parts, "revision "+rev[:min(12, len(rev))]+dirty)
	}
	if when != "" {
		parts = append(parts, when)
	}
	parts = append(parts, bi.GoVersion)
	return fmt.Sprintf("%s (%s)", version, strings.Join(parts, ", "))
}
