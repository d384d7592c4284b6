package uselite

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/routerdc-go/routerdc/pipeline/atomicfile"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// The encoder kinds this package registers.
const (
	// KindUSELite is the pretrained English sentence encoder alone.
	KindUSELite = "use-lite"
	// KindUSELiteNgram concatenates it with the hashed n-grams, which see
	// what USE-lite cannot (Chinese and other scripts it has no pieces for).
	KindUSELiteNgram = "use-lite+ngram"
)

// ParamDir is the setting naming the unpacked package's folder.
const ParamDir = "use_lite_dir"

const (
	formatUSELite = "routerdc-use-lite-encoder"
	formatNgram   = "routerdc-use-lite-ngram-encoder"
	// ngramSuffix names the hashed part's file beside a use-lite+ngram file.
	ngramSuffix = ".ngram.json"
)

var dirSetting = routers.String(ParamDir, "", routers.Ours,
	"folder of the fetched USE-lite npm package (encoder=use-lite, use-lite+ngram); empty: use-lite/ in $ROUTERDC_ENCODERS, else in data/encoders")

func init() {
	encode.Register(useLiteKind{})
	encode.Register(ngramKind{})
}

// opened caches loaded encoders by folder and content: every embed unit of
// a run asks for the same one, and loading it costs half a second.
var (
	openedMu sync.Mutex
	openedBy = map[string]*Encoder{}
)

func openCached(dir string) (*Encoder, error) {
	src, err := CheckDir(dir)
	if err != nil {
		return nil, err
	}
	openedMu.Lock()
	defer openedMu.Unlock()
	key := dir + "\x00" + src
	if e := openedBy[key]; e != nil {
		return e, nil
	}
	e, err := Open(dir)
	if err != nil {
		return nil, err
	}
	openedBy[key] = e
	return e, nil
}

// savedFile is what Save writes.
type savedFile struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// SourceSHA256 is CheckDir's digest of the package files encoded with.
	SourceSHA256 string `json:"source_sha256"`
	// Dir is the absolute folder the model was read from; a load that
	// does not find the package there tries the default folder (a moved
	// project), the content hash deciding either way.
	Dir string `json:"dir,omitempty"`
	// NgramFile is the hashed part's file (use-lite+ngram), beside this one.
	NgramFile string `json:"ngram_file,omitempty"`
}

func readSaved(path, format string) (savedFile, *Encoder, error) {
	var f savedFile
	b, err := os.ReadFile(path)
	if err != nil {
		return f, nil, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	if f.Format != format || f.Version != 1 {
		return f, nil, fmt.Errorf("encode: %s: format %q version %d, want %q version 1", path, f.Format, f.Version, format)
	}
	e, err := openCached(ResolveDir(f.Dir))
	if f.Dir != "" && (err != nil || e.Source() != f.SourceSHA256) {
		if d, derr := openCached(ResolveDir("")); derr == nil && d.Source() == f.SourceSHA256 {
			return f, d, nil
		}
	}
	if err != nil {
		return f, nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	if e.Source() != f.SourceSHA256 {
		return f, nil, fmt.Errorf("encode: %s: field source_sha256: saved with model files %s, the folder %s holds %s",
			path, f.SourceSHA256, ResolveDir(f.Dir), e.Source())
	}
	return f, e, nil
}

type useLiteKind struct{}

func (useLiteKind) Name() string                { return KindUSELite }
func (useLiteKind) Format() string              { return formatUSELite }
func (useLiteKind) Settings() []routers.Setting { return []routers.Setting{dirSetting} }
func (useLiteKind) Expensive() bool             { return true }
func (useLiteKind) Source(v routers.Values) (string, error) {
	return CheckDir(ResolveDir(v.String(ParamDir)))
}

// openSetting opens the model of the use_lite_dir setting and returns it
// with its absolute folder, which a saved encoder records.
func openSetting(v routers.Values) (*Encoder, string, error) {
	dir, err := filepath.Abs(ResolveDir(v.String(ParamDir)))
	if err != nil {
		return nil, "", err
	}
	e, err := openCached(dir)
	return e, dir, err
}

func (useLiteKind) New(v routers.Values, _ []string) (encode.Persistent, error) {
	e, dir, err := openSetting(v)
	if err != nil {
		return nil, err
	}
	return &useLite{Encoder: e, dirSetting: dir}, nil
}

func (useLiteKind) Load(path string) (encode.Persistent, error) {
	f, e, err := readSaved(path, formatUSELite)
	if err != nil {
		return nil, err
	}
	return &useLite{Encoder: e, dirSetting: f.Dir}, nil
}

var _ encode.Joined = (*withNgrams)(nil)

// useLite is the use-lite kind's encoder: an Encoder that saves.
type useLite struct {
	*Encoder
	dirSetting string
}

func (u *useLite) Save(path string) error {
	b, err := json.Marshal(savedFile{Format: formatUSELite, Version: 1, SourceSHA256: u.Source(), Dir: u.dirSetting})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

type ngramKind struct{}

func (ngramKind) Name() string   { return KindUSELiteNgram }
func (ngramKind) Format() string { return formatNgram }
func (ngramKind) Settings() []routers.Setting {
	return []routers.Setting{dirSetting, bitsSetting()}
}
func (ngramKind) Expensive() bool { return true }
func (ngramKind) Source(v routers.Values) (string, error) {
	return CheckDir(ResolveDir(v.String(ParamDir)))
}

// bitsSetting is the hashed kind's own encoder_bits declaration, so that
// both kinds read one setting.
func bitsSetting() routers.Setting {
	k, err := encode.Lookup(encode.KindHashed)
	if err != nil {
		panic(err)
	}
	for _, s := range k.Settings() {
		if s.Key == encode.ParamBits {
			return s
		}
	}
	panic("uselite: the hashed kind declares no " + encode.ParamBits)
}

func (ngramKind) New(v routers.Values, train []string) (encode.Persistent, error) {
	e, dir, err := openSetting(v)
	if err != nil {
		return nil, err
	}
	h := encode.NewHashed(encode.HashedConfig{Bits: v.Int(encode.ParamBits)})
	h.Fit(train)
	return &withNgrams{use: e, ngrams: h, dirSetting: dir}, nil
}

func (ngramKind) Load(path string) (encode.Persistent, error) {
	f, e, err := readSaved(path, formatNgram)
	if err != nil {
		return nil, err
	}
	if f.NgramFile != ngramFileName(path) {
		return nil, fmt.Errorf("encode: %s: field ngram_file: %q, want %q (the file beside it)", path, f.NgramFile, ngramFileName(path))
	}
	h, err := encode.LoadHashed(path + ngramSuffix)
	if err != nil {
		return nil, err
	}
	return &withNgrams{use: e, ngrams: h, dirSetting: f.Dir}, nil
}

func ngramFileName(path string) string { return filepath.Base(path) + ngramSuffix }

// withNgrams is USE-lite's vector next to the hashed n-grams' one, each
// scaled to norm 1/sqrt(2) so that the whole has norm 1 and neither part
// outweighs the other.
type withNgrams struct {
	use        *Encoder
	ngrams     *encode.Hashed
	dirSetting string
}

func (w *withNgrams) Name() string { return w.use.Name() + "+" + w.ngrams.Name() }
func (w *withNgrams) Dim() int     { return w.use.Dim() + w.ngrams.Dim() }

func (w *withNgrams) Encode(texts []string) ([][]float32, error) {
	a, err := w.use.Encode(texts)
	if err != nil {
		return nil, err
	}
	return w.Join(texts, a)
}

// Part is the USE-lite encoder: the pipeline embeds its vectors once for
// the use-lite and use-lite+ngram encoders (encode.Joined).
func (w *withNgrams) Part() encode.Encoder { return w.use }

// Join puts the n-grams' vectors beside USE-lite's, a, of the same texts.
func (w *withNgrams) Join(texts []string, a [][]float32) ([][]float32, error) {
	b, err := w.ngrams.Encode(texts)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	for i := range texts {
		v := make([]float32, 0, w.Dim())
		v = appendScaled(v, a[i])
		out[i] = appendScaled(v, b[i])
	}
	return out, nil
}

// appendScaled appends x at norm 1/sqrt(2) (zeros stay zeros: a text with
// no n-grams).
func appendScaled(dst, x []float32) []float32 {
	var ss float64
	for _, f := range x {
		ss += float64(f) * float64(f)
	}
	s := 0.0
	if ss > 0 {
		s = 1 / math.Sqrt(2*ss)
	}
	for _, f := range x {
		dst = append(dst, float32(float64(f)*s))
	}
	return dst
}

// Save writes the hashed part beside path first, then path: a reader that
// finds path finds its n-grams too.
func (w *withNgrams) Save(path string) error {
	if err := w.ngrams.Save(path + ngramSuffix); err != nil {
		return err
	}
	b, err := json.Marshal(savedFile{Format: formatNgram, Version: 1, SourceSHA256: w.use.Source(), Dir: w.dirSetting,
		NgramFile: ngramFileName(path)})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}
