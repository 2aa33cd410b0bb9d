// Package hfhub finds a model's tokenizer.json the way huggingface_hub
// does: in the local Hugging Face cache, or by downloading it from the hub
// into that cache.
//
// The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else
// ~/.cache/huggingface/hub, laid out as models--ORG--NAME/refs/main (a
// commit hash) and models--ORG--NAME/snapshots/COMMIT/tokenizer.json. The
// hub is $HF_ENDPOINT (default https://huggingface.co); $HF_TOKEN is sent
// for gated models; $HF_HUB_OFFLINE=1 forbids the download.
package hfhub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Env is the environment the lookup reads; os.Getenv in production.
type Env func(string) string

// CacheDir returns the hub cache folder.
func CacheDir(getenv Env) string {
	if d := getenv("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

// repoDir returns the cache folder of a model repo "ORG/NAME".
func repoDir(cache, repo string) string {
	return filepath.Join(cache, "models--"+strings.ReplaceAll(repo, "/", "--"))
}

var repoName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)

var commitHash = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// IsRepoName reports whether s looks like a hub repo name, ORG/NAME.
func IsRepoName(s string) bool { return repoName.MatchString(s) && !strings.Contains(s, "..") }

// Cached returns the path of repo's tokenizer.json in the cache, if there.
func Cached(getenv Env, repo string) (string, bool) {
	dir := repoDir(CacheDir(getenv), repo)
	ref, err := os.ReadFile(filepath.Join(dir, "refs", "main"))
	if err != nil {
		return "", false
	}
	p := filepath.Join(dir, "snapshots", strings.TrimSpace(string(ref)), "tokenizer.json")
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// ErrOffline is returned by Download when HF_HUB_OFFLINE forbids it.
var ErrOffline = errors.New("HF_HUB_OFFLINE is set: not downloading")

// Download fetches repo's tokenizer.json from the hub into the cache and
// returns its path. The file is written to a temporary name and renamed,
// so an interrupted download leaves nothing behind.
func Download(ctx context.Context, getenv Env, client *http.Client, repo string) (string, error) {
	if v := getenv("HF_HUB_OFFLINE"); v != "" && v != "0" && strings.ToLower(v) != "false" {
		return "", ErrOffline
	}
	endpoint := strings.TrimRight(getenv("HF_ENDPOINT"), "/")
	if endpoint == "" {
		endpoint = "https://huggingface.co"
	}
	url := endpoint + "/" + repo + "/resolve/main/tokenizer.json"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if tok := getenv("HF_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("downloading %s: %s (a gated model: accept its licence on the hub and set HF_TOKEN)", url, resp.Status)
	case resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("downloading %s: %s (no such model, or it has no tokenizer.json)", url, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("downloading %s: %s", url, resp.Status)
	}
	commit := resp.Header.Get("X-Repo-Commit")
	if !commitHash.MatchString(commit) {
		commit = "main"
	}
	dir := repoDir(CacheDir(getenv), repo)
	snap := filepath.Join(dir, "snapshots", commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(snap, "tokenizer.json")
	tmp, err := os.CreateTemp(snap, ".tokenizer.json.*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		tmp.Close()
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "refs"), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "refs", "main"), []byte(commit), 0o644); err != nil {
		return "", err
	}
	return dst, nil
}
