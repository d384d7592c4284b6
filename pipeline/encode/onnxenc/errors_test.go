package onnxenc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/encode"
)

// copyTiny copies the test model into a fresh directory.
func copyTiny(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range requiredFiles {
		b, err := os.ReadFile(filepath.Join(tinyDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func wantErr(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	t.Logf("%s: %v", what, err)
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not name %q", what, err, p)
		}
	}
}

func TestBadModelDirectories(t *testing.T) {
	_, err := encode.New(settings(ParamPath, ""), nil)
	wantErr(t, "empty encoder_path", err, ParamPath)

	missing := filepath.Join(t.TempDir(), "nowhere")
	_, err = encode.New(settings(ParamPath, missing), nil)
	wantErr(t, "missing directory", err, missing)

	dir := copyTiny(t)
	os.Remove(filepath.Join(dir, TokenizerFile))
	_, err = encode.New(settings(ParamPath, dir), nil)
	wantErr(t, "no tokenizer.json", err, TokenizerFile)

	dir = copyTiny(t)
	os.WriteFile(filepath.Join(dir, ModelFile), []byte("not a protobuf at all"), 0o644)
	_, err = encode.New(settings(ParamPath, dir), nil)
	wantErr(t, "garbage model.onnx", err, filepath.Join(dir, ModelFile))

	dir = copyTiny(t)
	os.WriteFile(filepath.Join(dir, TokenizerFile), []byte(`{"model": 7}`), 0o644)
	_, err = encode.New(settings(ParamPath, dir), nil)
	wantErr(t, "garbage tokenizer.json", err, filepath.Join(dir, TokenizerFile))

	dir = copyTiny(t)
	b, _ := os.ReadFile("testdata/hardmax.onnx")
	os.WriteFile(filepath.Join(dir, ModelFile), b, 0o644)
	_, err = encode.New(settings(ParamPath, dir), nil)
	wantErr(t, "an op onnx-gomlx lacks", err, filepath.Join(dir, ModelFile), "Hardmax")
}

func TestSaveLoad(t *testing.T) {
	dir := copyTiny(t)
	e := newEncoder(t, settings(ParamPath, dir, ParamPooling, PoolMean))
	path := filepath.Join(t.TempDir(), "encoder.json")
	if err := e.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := encode.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Name() != e.Name() || l.Dim() != e.Dim() {
		t.Fatalf("loaded %s (%d), saved %s (%d)", l.Name(), l.Dim(), e.Name(), e.Dim())
	}
	in := []string{"What is two and three?", "Write code."}
	a, err := e.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("loaded encoder differs at [%d][%d]: %g vs %g", i, j, b[i][j], a[i][j])
			}
		}
	}
	// The model's files changed: the router's encoder is gone.
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"hidden_size": 32, "edited": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = encode.Load(path)
	wantErr(t, "changed model directory", err, path, dir, "changed")
}
