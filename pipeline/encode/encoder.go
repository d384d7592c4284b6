// Package encode turns query text into fixed feature vectors. The router adds
// its own trainable projection on top, so any Encoder (our offline hashed
// n-grams, their SVD, or a pretrained model) plugs in without touching router
// or trainer.
//
// An encoder kind (the value of the "encoder" setting) is one file or small
// package: it implements Kind, declares its own settings, and calls Register
// from init(). A program sees a kind once it links the kind's package
// (pipeline/encode/all links every kind).
package encode

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/routerdc-go/routerdc/pipeline/routers"
)

// Encoder maps texts to dense feature vectors of length Dim().
type Encoder interface {
	// Name identifies the encoder kind and settings, for manifests and caches.
	Name() string
	Dim() int
	// Encode returns one vector per text (L2-normalised unless the kind
	// says otherwise).
	Encode(texts []string) ([][]float32, error)
}

// Persistent is an Encoder that can be saved with a trained router.
type Persistent interface {
	Encoder
	// Save writes the encoder to path, a JSON file whose "format" field
	// names the kind's file format; a kind may write sibling files named
	// path + suffix. Writes are atomic.
	Save(path string) error
}

// Kind is one encoder kind.
type Kind interface {
	// Name is the value of the "encoder" setting.
	Name() string
	// Settings are the settings only this kind reads.
	Settings() []routers.Setting
	// Format is the "format" field of the JSON files Save writes.
	Format() string
	// New builds the encoder the settings describe; fitted kinds fit on
	// train, the distinct training questions.
	New(v routers.Values, train []string) (Persistent, error)
	// Load reads what the kind's encoders Save to path.
	Load(path string) (Persistent, error)
	// Expensive says whether encoding costs enough (a neural network) that
	// the pipeline should embed every query once and cache the vectors.
	Expensive() bool
	// Source is the SHA256 of the files the settings make the encoder read
	// (model weights, tokenizer), "" when it reads none: caches are keyed
	// on content, never on a path.
	Source(v routers.Values) (string, error)
}

// ParamEncoder is the setting naming the encoder kind.
const ParamEncoder = "encoder"

// DefaultKind is the encoder of the default settings.
const DefaultKind = KindHashed

var kinds = map[string]Kind{}

// Register makes an encoder kind known and declares its settings; a second
// kind of the same name or format is a programming error found at start-up.
func Register(k Kind) {
	if _, dup := kinds[k.Name()]; dup {
		panic("encode: kind " + k.Name() + " registered twice")
	}
	for _, o := range kinds {
		if o.Format() == k.Format() {
			panic("encode: kinds " + o.Name() + " and " + k.Name() + " share file format " + k.Format())
		}
	}
	kinds[k.Name()] = k
	routers.Declare(k.Settings()...)
}

func init() {
	routers.Declare(routers.StringCheck(ParamEncoder, DefaultKind, routers.Ours,
		"query encoder: hashed n-grams with a trained projection (replaces the paper's fine-tuned mDeBERTa), or one of the kinds in the README's encoder table",
		func() string { return "want one of " + strings.Join(Names(), ", ") },
		func(v string) bool { _, err := Lookup(v); return err == nil }))
}

// Lookup returns the registered kind of that name.
func Lookup(name string) (Kind, error) {
	if k, ok := kinds[name]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown encoder %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered kinds, sorted.
func Names() []string {
	var out []string
	for n := range kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// New builds the encoder of the settings' "encoder" kind.
func New(v routers.Values, train []string) (Persistent, error) {
	k, err := Lookup(v.String(ParamEncoder))
	if err != nil {
		return nil, err
	}
	return k.New(v, train)
}

// Load reads an encoder saved by any registered kind, found by the file's
// "format" field.
func Load(path string) (Persistent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var head struct {
		Format string `json:"format"`
	}
	err = json.NewDecoder(f).Decode(&head)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("encode: %s: %w", path, err)
	}
	var known []string
	for _, k := range kinds {
		if k.Format() == head.Format {
			return k.Load(path)
		}
		known = append(known, k.Format())
	}
	sort.Strings(known)
	return nil, fmt.Errorf("encode: %s: field format: %q is no known encoder format (known: %s)", path, head.Format, strings.Join(known, ", "))
}

// ExpensiveKind says whether the settings' encoder should have its vectors
// cached by the pipeline.
func ExpensiveKind(v routers.Values) bool {
	k, err := Lookup(v.String(ParamEncoder))
	return err == nil && k.Expensive()
}

// Identity is what decides the settings' encoder (its kind, the kind's
// settings and the content hash of the files it reads): the pipeline's cache
// key of encoded features.
func Identity(v routers.Values) (map[string]any, error) {
	k, err := Lookup(v.String(ParamEncoder))
	if err != nil {
		return nil, err
	}
	id := map[string]any{ParamEncoder: k.Name()}
	for _, s := range k.Settings() {
		id[s.Key] = v[s.Key]
	}
	src, err := k.Source(v)
	if err != nil {
		return nil, err
	}
	if src != "" {
		id["source_sha256"] = src
	}
	if k.Expensive() {
		id["memo"] = memoVersion
	}
	return id, nil
}

// memoVersion names how NewMemo embeds an Expensive encoder's texts, which
// sets the vectors' last bits; a cached table of another version is not
// reused. 2: the sorted set of texts, shared by the encoders of one part.
const memoVersion = 2

// Label describes the encoder of a run's settings for tables: its kind and
// the values of the kind's own settings, e.g. "hashed (encoder_bits=12)".
func Label(settings map[string]any) string {
	name, _ := settings[ParamEncoder].(string)
	if name == "" {
		name = DefaultKind
	}
	k, err := Lookup(name)
	if err != nil {
		return name
	}
	var kv []string
	for _, s := range k.Settings() {
		v, ok := settings[s.Key]
		if !ok {
			v = s.Default
		}
		kv = append(kv, fmt.Sprintf("%s=%v", s.Key, v))
	}
	if len(kv) == 0 {
		return name
	}
	return name + " (" + strings.Join(kv, ", ") + ")"
}

// OnlyOtherKinds says whether key is a setting that only encoder kinds
// other than the default one read (false for the default kind's settings,
// even when another kind reads them too, and for every non-encoder
// setting).
func OnlyOtherKinds(key string) bool {
	other := false
	for _, k := range kinds {
		for _, s := range k.Settings() {
			if s.Key == key {
				if k.Name() == DefaultKind {
					return false
				}
				other = true
			}
		}
	}
	return other
}
