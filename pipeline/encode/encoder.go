// Package encode turns query text into fixed feature vectors. The router adds
// its own trainable projection on top, so any Encoder (our offline hashed
// n-grams, or a pretrained model) plugs in without touching router or trainer.
package encode

// Encoder maps texts to dense feature vectors of length Dim().
type Encoder interface {
	// Name identifies the encoder kind and settings, for manifests and caches.
	Name() string
	Dim() int
	// Encode returns one L2-normalised vector per text.
	Encode(texts []string) ([][]float32, error)
}

// Persistent is an Encoder that can be saved with a trained router.
type Persistent interface {
	Encoder
	Save(path string) error
}

// Load reads an encoder saved by a Persistent encoder. Only our hashed
// n-gram encoder is persistent today; a pretrained encoder adds its case
// here.
func Load(path string) (Persistent, error) {
	return LoadHashed(path)
}
