package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// train --out used to delete whatever was at the path once training ended.
// The refusal comes before training, so this needs no data.
func TestTrainRefusesForeignOut(t *testing.T) {
	bin := binary(t)
	parent := t.TempDir()
	notes := filepath.Join(parent, "notes")
	os.Mkdir(notes, 0o755)
	os.WriteFile(filepath.Join(notes, "thesis.tex"), []byte("years of work"), 0o644)
	file := filepath.Join(parent, "file.txt")
	os.WriteFile(file, []byte("keep"), 0o644)

	for _, c := range []struct{ out, want string }{
		{notes, "not a router directory"},
		{file, "not a directory"},
	} {
		_, stderr, err := run(t, bin, "", "train", "--out", c.out, "--set", "router=task")
		if err == nil || !strings.Contains(stderr, c.out) || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("train --out %s: %v, stderr %q; want one error naming the path and %q", c.out, err, stderr, c.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(notes, "thesis.tex")); string(b) != "years of work" {
		t.Errorf("train deleted or changed %s: %q", notes, b)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("train deleted or changed %s: %q", file, b)
	}
}

func TestParseSeeds(t *testing.T) {
	if s, err := parseSeeds(" 3, 1,2"); err != nil || len(s) != 3 || s[0] != 3 || s[1] != 1 || s[2] != 2 {
		t.Errorf("parseSeeds(\" 3, 1,2\") = %v, %v", s, err)
	}
	for in, want := range map[string]string{
		"":      "empty",
		" ":     "empty",
		"1,1":   "repeats seed 1",
		"1,2,1": "repeats seed 1",
		"1,,2":  `"1,,2"`,
		"1.5":   `"1.5"`,
	} {
		if s, err := parseSeeds(in); err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--seeds") {
			t.Errorf("parseSeeds(%q) = %v, %v; want an error about --seeds mentioning %q", in, s, err, want)
		}
	}
}

// reproduce --seeds "" used to fall back to the declaration's five seeds.
func TestSeedsFlagErrors(t *testing.T) {
	bin := binary(t)
	out := t.TempDir()
	for _, args := range [][]string{
		{"reproduce", "--seeds", "", "--dry-run", "--no-cache", "--out", out},
		{"reproduce", "--seeds", "1,1", "--dry-run", "--no-cache", "--out", out},
		{"validate", "--seeds", "", "router=task"},
		{"validate", "--seeds", "2,2", "router=task"},
	} {
		stdout, stderr, err := run(t, bin, "", args...)
		if err == nil || !strings.Contains(stderr, "--seeds") || stdout != "" {
			t.Errorf("%q: %v, stdout %q, stderr %q; want an error about --seeds", args, err, stdout, stderr)
		}
	}
}
