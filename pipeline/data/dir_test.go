package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirPrecedence(t *testing.T) {
	t.Setenv(EnvVar, "/from/env")
	if got := Dir("/from/flag"); got != "/from/flag" {
		t.Errorf("Dir(flag) = %q, want the flag", got)
	}
	if got := Dir(""); got != "/from/env" {
		t.Errorf("Dir(\"\") with %s set = %q, want the env value", EnvVar, got)
	}
}

func TestDirDefault(t *testing.T) {
	t.Setenv(EnvVar, "")
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "pipeline", "data")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	// From a package dir, the default is the module root's data dir.
	if got := Dir(""); got != filepath.Join(root, "data") {
		t.Errorf("Dir(\"\") in a package dir = %q, want %q", got, filepath.Join(root, "data"))
	}
	// A ./data in the working directory wins.
	t.Chdir(root)
	if err := os.Mkdir("data", 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Dir(""); got != "data" {
		t.Errorf("Dir(\"\") beside ./data = %q, want \"data\"", got)
	}
}

func TestCheckDirEmpty(t *testing.T) {
	dir := t.TempDir()
	err := CheckDir(dir)
	if err == nil {
		t.Fatal("CheckDir accepted an empty dir")
	}
	for _, want := range []string{dir, "none of its files", "just data", "routerdc data", EnvVar} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if HasAnyFile(dir) {
		t.Error("HasAnyFile(empty dir) = true")
	}
}

func TestCheckDirPartial(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "split2_model7", "mbpp.json")
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := CheckDir(dir)
	if err == nil {
		t.Fatal("CheckDir accepted a dir with one wrong file")
	}
	for _, want := range []string{"17 missing", "split2_model7/ceval.json", "1 with the wrong content", "split2_model7/mbpp.json (sha256", "just data"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if !HasAnyFile(dir) {
		t.Error("HasAnyFile = false with mbpp.json present")
	}
}

func TestTestDir(t *testing.T) {
	empty := t.TempDir()
	t.Setenv(EnvVar, empty)
	if _, _, err := TestDir(); err == nil {
		t.Errorf("TestDir with %s=%s (empty) did not fail", EnvVar, empty)
	}
	// Unset and nothing downloaded: skip, not fail.
	os.Unsetenv(EnvVar)
	t.Chdir(empty)
	dir, skip, err := TestDir()
	if err != nil || skip == "" || dir != "" {
		t.Errorf("TestDir with no data = %q, %q, %v; want a skip", dir, skip, err)
	}
}
