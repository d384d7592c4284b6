package encode

import "github.com/routerdc-go/routerdc/pipeline/routers"

// KindSVD is our hashed n-grams reduced by a truncated SVD fitted on the
// training questions (SVD), a frozen encoder.
const KindSVD = "ngram-svd"

// Settings of the ngram-svd encoder.
const (
	ParamSVDBits = "svd_bits"
	ParamSVDDim  = "svd_dim"
)

type svdKind struct{}

func init() { Register(svdKind{}) }

func (svdKind) Name() string   { return KindSVD }
func (svdKind) Format() string { return svdFormat }
func (svdKind) Settings() []routers.Setting {
	return []routers.Setting{
		routers.Int(ParamSVDBits, 18, routers.Ours, "ngram-svd: hashed n-grams into 2^bits buckets before the SVD", routers.Between(10, 22, "")),
		routers.Int(ParamSVDDim, 256, routers.Ours, "ngram-svd: singular vectors kept (the encoder's output size)", routers.Between(2, 4096, "")),
	}
}
func (svdKind) Expensive() bool                       { return false }
func (svdKind) Source(routers.Values) (string, error) { return "", nil }

// New fits the idf and the SVD on the training questions; the SVD's random
// sketch has a fixed seed, so the encoder depends on the questions alone.
func (svdKind) New(v routers.Values, train []string) (Persistent, error) {
	return FitSVD(HashedConfig{Bits: v.Int(ParamSVDBits)}, v.Int(ParamSVDDim), train, 1)
}

func (svdKind) Load(path string) (Persistent, error) { return LoadSVD(path) }
