package encode

import "github.com/routerdc-go/routerdc/pipeline/routers"

// KindHashed is our offline encoder: hashed character and word n-grams with
// tf-idf weights (Hashed), under the router's trainable projection.
const KindHashed = "hashed"

// ParamBits is the hashed encoder's size setting.
const ParamBits = "encoder_bits"

type hashedKind struct{}

func init() { Register(hashedKind{}) }

func (hashedKind) Name() string   { return KindHashed }
func (hashedKind) Format() string { return hashedFormat }
func (hashedKind) Settings() []routers.Setting {
	return []routers.Setting{routers.Int(ParamBits, 12, routers.Ours,
		"hashed n-gram features: 2^bits buckets (encoder=hashed, use-lite+ngram)", routers.Between(6, 20, ""))}
}
func (hashedKind) Expensive() bool                       { return false }
func (hashedKind) Source(routers.Values) (string, error) { return "", nil }

// New fits the idf on the training questions.
func (hashedKind) New(v routers.Values, train []string) (Persistent, error) {
	h := NewHashed(HashedConfig{Bits: v.Int(ParamBits)})
	h.Fit(train)
	return h, nil
}

func (hashedKind) Load(path string) (Persistent, error) { return LoadHashed(path) }
