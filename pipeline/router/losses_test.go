package router

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/routerdc-go/routerdc/pipeline/backend"
)

// refSampleLLM is the spec's sample-LLM loss written out in float64,
// independently of MakeLabels and of the graph code.
func refSampleLLM(logits, scores [][]float64, kPos, kNeg int, thr float64) float64 {
	B, T := len(logits), len(logits[0])
	var total float64
	for i := 0; i < kPos; i++ {
		var sum float64
		for b := 0; b < B; b++ {
			order := make([]int, T)
			for t := range order {
				order[t] = t
			}
			sort.SliceStable(order, func(x, y int) bool { return scores[b][order[x]] > scores[b][order[y]] })
			tp := order[i]
			if scores[b][tp] <= 0 {
				continue // masked positive: contributes 0 to the batch mean
			}
			den := math.Exp(logits[b][tp])
			for _, tn := range order[T-kNeg:] {
				if scores[b][tn] <= thr {
					den += math.Exp(logits[b][tn])
				}
			}
			sum += -(logits[b][tp] - math.Log(den))
		}
		total += sum / float64(B)
	}
	return total
}

// refSampleSample is the sample-sample loss in float64 for given choices.
func refSampleSample(emb [][]float64, pos []int, neg [][]int) float64 {
	norm := func(v []float64) []float64 {
		var s float64
		for _, x := range v {
			s += x * x
		}
		s = math.Sqrt(s) + 1e-6
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = x / s
		}
		return out
	}
	cos := func(a, b []float64) float64 {
		a, b = norm(a), norm(b)
		var s float64
		for i := range a {
			s += a[i] * b[i]
		}
		return s
	}
	var sum float64
	var n int
	for i := range emb {
		if len(neg[i]) == 0 {
			continue
		}
		sp := cos(emb[i], emb[pos[i]])
		den := math.Exp(sp)
		for _, j := range neg[i] {
			den += math.Exp(cos(emb[i], emb[j]))
		}
		sum += -(sp - math.Log(den))
		n++
	}
	return sum / float64(n)
}

func randMatrix(rng *rand.Rand, r, c int, scale float64) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = make([]float64, c)
		for j := range m[i] {
			m[i][j] = rng.NormFloat64() * scale
		}
	}
	return m
}

func flat64(m [][]float64) []float64 {
	var out []float64
	for _, r := range m {
		out = append(out, r...)
	}
	return out
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// distinctScores makes scores with zeros (masked positives), rows whose
// negatives all score above 0.5 (dropped), and tied zeros; ties rank in file
// order in both the reference and MakeLabels(tieRng=nil).
func distinctScores(rng *rand.Rand, B, T int) [][]float64 {
	s := make([][]float64, B)
	for b := range s {
		s[b] = make([]float64, T)
		for t := range s[b] {
			s[b][t] = rng.Float64()
		}
		s[b][rng.IntN(T)] = 0 // a zero-score LLM
		if b%3 == 0 {
			for t := range s[b] {
				s[b][t] = 0.51 + 0.4*rng.Float64() // all negatives dropped
			}
		}
		if b%4 == 1 {
			for t := range s[b] {
				if t != 0 {
					s[b][t] = 0 // positives beyond the first are masked
				}
			}
			s[b][0] = 0.7
		}
	}
	return s
}

func TestSampleLLMLossMatchesReference(t *testing.T) {
	b := backend.MustNew()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range [][2]int{{3, 3}, {1, 6}, {4, 5}, {2, 1}} {
		B, T := 12, 7
		p := Params{KPos: k[0], KNeg: k[1], NegThreshold: 0.5, H: 3, ZooterTemp: 1, Router: KindRouterDC}
		logits := randMatrix(rng, B, T, 1)
		scores := distinctScores(rng, B, T)
		groups := make([]int, B)
		l := MakeLabels(p, scores, groups, rng, nil)
		want := refSampleLLM(logits, scores, k[0], k[1], 0.5)
		out := MustExecOnce(b, func(lg, oh, pm, nm *Node) *Node { return SampleLLMLoss(lg, oh, pm, nm) },
			tensors.FromFlatDataAndDimensions(flat64(logits), B, T),
			tensors.FromFlatDataAndDimensions(to64(l.PosOneHot), B, l.KPos, T),
			tensors.FromFlatDataAndDimensions(to64(l.PosMask), B, l.KPos),
			tensors.FromFlatDataAndDimensions(to64(l.NegMask), B, T))
		got := out.Value().(float64)
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("K+=%d K-=%d: graph loss %.12f, reference %.12f", k[0], k[1], got, want)
		}
	}
}

func TestSampleSampleLossMatchesReference(t *testing.T) {
	b := backend.MustNew()
	rng := rand.New(rand.NewPCG(5, 6))
	B, D := 10, 6
	emb := randMatrix(rng, B, D, 1)
	groups := []int{0, 0, 0, 1, 1, 2, 2, 2, 2, 3}
	p := Params{KPos: 1, KNeg: 1, H: 3, ZooterTemp: 1, Router: KindRouterDC}
	l := MakeLabels(p, randMatrix(rng, B, 7, 1), groups, rng, nil)
	pos := make([]int, B)
	neg := make([][]int, B)
	for i := 0; i < B; i++ {
		for j := 0; j < B; j++ {
			if l.SSPos[i*B+j] == 1 {
				pos[i] = j
				if groups[j] != groups[i] {
					t.Fatalf("row %d: positive %d is from another group", i, j)
				}
			}
			if l.SSNeg[i*B+j] == 1 {
				neg[i] = append(neg[i], j)
				if groups[j] == groups[i] {
					t.Fatalf("row %d: negative %d is from the same group", i, j)
				}
			}
		}
		if len(neg[i]) != 3 {
			t.Fatalf("row %d: %d negatives, want H=3", i, len(neg[i]))
		}
	}
	want := refSampleSample(emb, pos, neg)
	out := MustExecOnce(b, func(e, sp, sn, sv *Node) *Node { return SampleSampleLoss(e, sp, sn, sv) },
		tensors.FromFlatDataAndDimensions(flat64(emb), B, D),
		tensors.FromFlatDataAndDimensions(to64(l.SSPos), B, B),
		tensors.FromFlatDataAndDimensions(to64(l.SSNeg), B, B),
		tensors.FromFlatDataAndDimensions(to64(l.SSValid), B))
	if got := out.Value().(float64); math.Abs(got-want) > 1e-9 {
		t.Errorf("graph loss %.12f, reference %.12f", got, want)
	}
}

// TestLossGradientsFiniteDifference checks the graph's gradients of both
// losses against central finite differences of the float64 references.
func TestLossGradientsFiniteDifference(t *testing.T) {
	b := backend.MustNew()
	rng := rand.New(rand.NewPCG(7, 8))
	B, T, D := 6, 7, 5
	p := Params{KPos: 3, KNeg: 3, NegThreshold: 0.5, H: 2, ZooterTemp: 1, Router: KindRouterDC}
	logits := randMatrix(rng, B, T, 1)
	scores := distinctScores(rng, B, T)
	groups := []int{0, 0, 1, 1, 2, 2}
	l := MakeLabels(p, scores, groups, rng, nil)
	emb := randMatrix(rng, B, D, 1)

	outs := MustExecOnceN(b, func(in []*Node) []*Node {
		lg, e := in[0], in[4]
		l1 := SampleLLMLoss(lg, in[1], in[2], in[3])
		l2 := SampleSampleLoss(e, in[5], in[6], in[7])
		return []*Node{Gradient(l1, lg)[0], Gradient(l2, e)[0]}
	},
		tensors.FromFlatDataAndDimensions(flat64(logits), B, T),
		tensors.FromFlatDataAndDimensions(to64(l.PosOneHot), B, l.KPos, T),
		tensors.FromFlatDataAndDimensions(to64(l.PosMask), B, l.KPos),
		tensors.FromFlatDataAndDimensions(to64(l.NegMask), B, T),
		tensors.FromFlatDataAndDimensions(flat64(emb), B, D),
		tensors.FromFlatDataAndDimensions(to64(l.SSPos), B, B),
		tensors.FromFlatDataAndDimensions(to64(l.SSNeg), B, B),
		tensors.FromFlatDataAndDimensions(to64(l.SSValid), B))
	gLogits := tensors.MustCopyFlatData[float64](outs[0])
	gEmb := tensors.MustCopyFlatData[float64](outs[1])

	const h = 1e-6
	for bi := 0; bi < B; bi++ {
		for ti := 0; ti < T; ti++ {
			orig := logits[bi][ti]
			logits[bi][ti] = orig + h
			up := refSampleLLM(logits, scores, 3, 3, 0.5)
			logits[bi][ti] = orig - h
			down := refSampleLLM(logits, scores, 3, 3, 0.5)
			logits[bi][ti] = orig
			if fd := (up - down) / (2 * h); math.Abs(fd-gLogits[bi*T+ti]) > 1e-6 {
				t.Errorf("d sample-LLM / d logit[%d][%d]: graph %.8f, finite difference %.8f", bi, ti, gLogits[bi*T+ti], fd)
			}
		}
	}
	pos := make([]int, B)
	neg := make([][]int, B)
	for i := 0; i < B; i++ {
		for j := 0; j < B; j++ {
			if l.SSPos[i*B+j] == 1 {
				pos[i] = j
			}
			if l.SSNeg[i*B+j] == 1 {
				neg[i] = append(neg[i], j)
			}
		}
	}
	for i := 0; i < B; i++ {
		for d := 0; d < D; d++ {
			orig := emb[i][d]
			emb[i][d] = orig + h
			up := refSampleSample(emb, pos, neg)
			emb[i][d] = orig - h
			down := refSampleSample(emb, pos, neg)
			emb[i][d] = orig
			if fd := (up - down) / (2 * h); math.Abs(fd-gEmb[i*D+d]) > 1e-6 {
				t.Errorf("d sample-sample / d emb[%d][%d]: graph %.8f, finite difference %.8f", i, d, gEmb[i*D+d], fd)
			}
		}
	}
}

func TestCrossEntropyLossMatchesReference(t *testing.T) {
	b := backend.MustNew()
	rng := rand.New(rand.NewPCG(9, 10))
	B, T := 5, 7
	logits := randMatrix(rng, B, T, 1)
	scores := randMatrix(rng, B, T, 0.3)
	p := Params{Router: KindZooter, ZooterTemp: 0.5, KPos: 3, KNeg: 3, H: 1}
	l := MakeLabels(p, scores, make([]int, B), rng, nil)
	var want float64
	for bi := 0; bi < B; bi++ {
		// KL(target || softmax(logits)) = CE - H(target); CE is what we check.
		var z, zt float64
		for ti := 0; ti < T; ti++ {
			z += math.Exp(logits[bi][ti])
			zt += math.Exp(scores[bi][ti] / 0.5)
		}
		for ti := 0; ti < T; ti++ {
			target := math.Exp(scores[bi][ti]/0.5) / zt
			if math.Abs(float64(l.Target[bi*T+ti])-target) > 1e-6 {
				t.Fatalf("ZOOTER target[%d][%d] = %v, want %v", bi, ti, l.Target[bi*T+ti], target)
			}
			want += -target * (logits[bi][ti] - math.Log(z)) / float64(B)
		}
	}
	out := MustExecOnce(b, func(lg, tg *Node) *Node { return CrossEntropyLoss(lg, tg) },
		tensors.FromFlatDataAndDimensions(flat64(logits), B, T),
		tensors.FromFlatDataAndDimensions(to64(l.Target), B, T))
	if got := out.Value().(float64); math.Abs(got-want) > 1e-6 {
		t.Errorf("cross-entropy %.9f, reference %.9f", got, want)
	}
}
