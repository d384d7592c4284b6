package uselite

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

func settingsFor(t *testing.T, kind string, kv ...string) routers.Values {
	t.Helper()
	v := routers.Values(routers.Defaults())
	v[encode.ParamEncoder] = kind
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = kv[i+1]
	}
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestKindsRegistered(t *testing.T) {
	for _, name := range []string{KindUSELite, KindUSELiteNgram} {
		k, err := encode.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if !k.Expensive() {
			t.Errorf("%s: Expensive() false: a Transformer's vectors should be cached", name)
		}
	}
	k, _ := encode.Lookup(KindUSELiteNgram)
	var keys []string
	for _, s := range k.Settings() {
		keys = append(keys, s.Key)
	}
	if strings.Join(keys, ",") != ParamDir+","+encode.ParamBits {
		t.Errorf("%s reads settings %v, want %s and %s", KindUSELiteNgram, keys, ParamDir, encode.ParamBits)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := packageDir(t)
	texts := []string{"How many legs does a spider have?", "如何用Python反转链表？", ""}
	for _, kind := range []string{KindUSELite, KindUSELiteNgram} {
		t.Run(kind, func(t *testing.T) {
			v := settingsFor(t, kind)
			id, err := encode.Identity(v)
			if err != nil {
				t.Fatal(err)
			}
			src, _ := CheckDir(dir)
			if id["source_sha256"] != src {
				t.Errorf("identity %v: source_sha256 want %s", id, src)
			}
			e, err := encode.New(v, []string{"what is two plus two", "write a poem about the sea", "如何学习"})
			if err != nil {
				t.Fatal(err)
			}
			want, err := e.Encode(texts)
			if err != nil {
				t.Fatal(err)
			}
			wantDim := Dim
			if kind == KindUSELiteNgram {
				wantDim += 1 << 12
			}
			if e.Dim() != wantDim || len(want[0]) != wantDim {
				t.Fatalf("Dim %d, vectors of %d, want %d", e.Dim(), len(want[0]), wantDim)
			}
			for i, vec := range want[:2] {
				var ss float64
				for _, x := range vec {
					ss += float64(x) * float64(x)
				}
				if math.Abs(ss-1) > 1e-5 {
					t.Errorf("text %d: squared norm %g, want 1", i, ss)
				}
			}
			path := filepath.Join(t.TempDir(), "encoder.json")
			if err := e.Save(path); err != nil {
				t.Fatal(err)
			}
			back, err := encode.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if back.Name() != e.Name() {
				t.Errorf("loaded %q, saved %q", back.Name(), e.Name())
			}
			got, err := back.Encode(texts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				for j := range got[i] {
					if got[i][j] != want[i][j] {
						t.Fatalf("text %d dim %d: loaded encoder gives %g, saved one %g", i, j, got[i][j], want[i][j])
					}
				}
			}
		})
	}
}

// A saved encoder whose model files differ from those it was saved with
// must not load: its vectors would silently change.
func TestLoadRefusesOtherSource(t *testing.T) {
	packageDir(t)
	e, err := encode.New(settingsFor(t, KindUSELite), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "encoder.json")
	if err := e.Save(path); err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &f)
	f["source_sha256"] = strings.Repeat("0", 64)
	b, _ = json.Marshal(f)
	os.WriteFile(path, b, 0o644)
	if _, err := encode.Load(path); err == nil || !strings.Contains(err.Error(), "source_sha256") {
		t.Errorf("Load with another source: %v, want an error naming source_sha256", err)
	}
}

// Without the package, building, loading and identifying the encoder all
// fail with the command that fetches it.
func TestMissingPackage(t *testing.T) {
	empty := t.TempDir()
	v := settingsFor(t, KindUSELite, ParamDir, empty)
	if _, err := encode.New(v, nil); err == nil || !strings.Contains(err.Error(), "just encoders") {
		t.Errorf("New: %v, want an error saying to run `just encoders`", err)
	}
	if _, err := encode.Identity(v); err == nil || !strings.Contains(err.Error(), "just encoders") {
		t.Errorf("Identity: %v, want an error saying to run `just encoders`", err)
	}
	path := filepath.Join(t.TempDir(), "encoder.json")
	b, _ := json.Marshal(savedFile{Format: formatUSELite, Version: 1, SourceSHA256: "x", Dir: empty})
	os.WriteFile(path, b, 0o644)
	if _, err := encode.Load(path); err == nil || !strings.Contains(err.Error(), "just encoders") || !strings.Contains(err.Error(), path) {
		t.Errorf("Load: %v, want an error naming %s and saying to run `just encoders`", err, path)
	}
	// Partly there: the missing file is named.
	os.MkdirAll(filepath.Join(empty, "dist"), 0o755)
	os.WriteFile(filepath.Join(empty, "dist", "model.json"), []byte("{}"), 0o644)
	if _, err := encode.New(v, nil); err == nil || !strings.Contains(err.Error(), "dist/group1-shard1of7") {
		t.Errorf("New on a partial folder: %v, want the missing shard named", err)
	}
}

func TestAppendScaled(t *testing.T) {
	v := appendScaled(appendScaled(nil, []float32{3, 4}), []float32{0, 0, 2})
	want := []float32{0.6 / math.Sqrt2, 0.8 / math.Sqrt2, 0, 0, 1 / math.Sqrt2}
	for i := range want {
		if math.Abs(float64(v[i]-want[i])) > 1e-7 {
			t.Fatalf("got %v, want %v", v, want)
		}
	}
	if z := appendScaled(nil, []float32{0, 0}); z[0] != 0 || z[1] != 0 {
		t.Errorf("zero vector scaled to %v", z)
	}
}
