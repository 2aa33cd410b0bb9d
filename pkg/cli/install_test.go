package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// make install PREFIX=... installs working commands: the scripts run from
// any folder, with no repository file and nothing else on PATH, and give
// the reference's rows; the completion scripts are there.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	prefix := t.TempDir()
	repo, _ := filepath.Abs("../..")
	cmd := exec.Command("make", "-s", "install", "PREFIX="+prefix)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, f := range []string{"bin/trace-extract", "bin/trace-hash", "bin/nat-to-mooncake", "bin/telemetry-to-mooncake",
		"share/bash-completion/completions/trace-hash", "share/zsh/site-functions/_trace-tokenize", "share/fish/vendor_completions.d/trace-extract.fish"} {
		if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
			t.Errorf("not installed: %s", f)
		}
	}
	work := t.TempDir()
	out := filepath.Join(work, "rows.jsonl")
	run := exec.Command(filepath.Join(prefix, "bin", "nat-to-mooncake"), "--input-file", filepath.Join(repo, "testdata/nat/multi.json"), "--output-file", out, "-q")
	run.Dir = work
	run.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + work, "AGENTTRACE_CACHE_DIR=off", "HF_HUB_OFFLINE=1"}
	if b, err := run.CombinedOutput(); err != nil {
		t.Fatalf("installed nat-to-mooncake: %v\n%s", err, b)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(filepath.Join(repo, "testdata/golden/parity/nat-multi.bs128.jsonl"))
	if string(got) != string(want) {
		t.Fatal("the installed script's rows differ from the reference's")
	}
}
