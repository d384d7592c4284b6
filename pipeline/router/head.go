package router

import (
	"math"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/vec"
)

// hostHead is the model of every features-based router with no hidden
// layer (the default, and all published rows), with its losses and their
// gradients written out, run on the host. GoMLX's pure-Go backend took
// ~2 ms a step for this part alone (its kernels for 64 x 64 products are
// per-output dot products; a call into its SIMD code costs more than the
// arithmetic here), which is the whole budget of the 3 s for 1000
// steps; on the host it takes ~0.1 ms. The graph (Logits, LossFn) stays
// the model's definition: tests hold these gradients to GoMLX's automatic
// differentiation of it, and the models it alone runs (hidden layers, a
// fine-tuned encoder) train through it.
type hostHead struct {
	T, dim  int
	cosine  bool
	invTemp float32
	// crossEntropy: CosineClassifier/ZOOTER's loss on the target, else
	// RouterDC's sample-LLM loss; lambda weighs the sample-sample loss.
	crossEntropy bool
	lambda       float64
}

// hostHeadFor is the host head of p, or false when the graph must run the
// model (hidden layers, an in-graph encoder, a kind without graphKind).
func hostHeadFor(p Params, T int) (hostHead, bool) {
	k := graphKindOf(p.Router)
	if k == nil || p.HiddenLayers != 0 {
		return hostHead{}, false
	}
	if fn, err := encode.GraphOf(p.values()); err != nil || fn != nil {
		return hostHead{}, false
	}
	return hostHead{
		T: T, dim: p.Dim, cosine: p.Similarity == "cosine", invTemp: float32(1 / p.Temperature),
		crossEntropy: k.crossEntropy, lambda: p.values().Float(k.ssWeight),
	}, true
}

// normEps is L2NormalizeWithEpsilon's epsilon in Logits.
const normEps = 1e-6

// normalize returns the rows of x [n, dim] divided by their norm + eps
// (as the graph's L2NormalizeWithEpsilon), and the norms.
func normalize(x []float32, dim int) (q []float32, norms []float32) {
	n := len(x) / dim
	q, norms = make([]float32, len(x)), make([]float32, n)
	for i := 0; i < n; i++ {
		r := x[i*dim : (i+1)*dim]
		var s float32
		for _, v := range r {
			s += v * v
		}
		norms[i] = float32(math.Sqrt(float64(s)))
		d := norms[i] + normEps
		for c, v := range r {
			q[i*dim+c] = v / d
		}
	}
	return q, norms
}

// normalizeBack is the gradient of x given dq for q = normalize(x):
// dx = dq/(n+eps) - x (x.dq) / (n (n+eps)^2).
func normalizeBack(x, norms, dq []float32, dim int) []float32 {
	dx := make([]float32, len(x))
	for i := range norms {
		r, g := x[i*dim:(i+1)*dim], dq[i*dim:(i+1)*dim]
		var xg float64
		for c := range r {
			xg += float64(r[c]) * float64(g[c])
		}
		n := float64(norms[i])
		d := n + normEps
		f := xg / (n * d * d)
		for c := range r {
			dx[i*dim+c] = float32(float64(g[c])/d - float64(r[c])*f)
		}
	}
	return dx
}

// transpose returns x [n, m] as [m, n].
func transpose(x []float32, n, m int) []float32 {
	out := make([]float32, len(x))
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			out[j*n+i] = x[i*m+j]
		}
	}
	return out
}

// logits returns emb [B, dim] x the LLM embeddings K [T, dim] as the
// graph's CosineLogits: [B, T], with what backward needs.
func (h hostHead) logits(emb, K []float32) (logits []float32, st headState) {
	B := len(emb) / h.dim
	st.q, st.k = emb, K
	if h.cosine {
		st.q, st.qNorm = normalize(emb, h.dim)
		st.k, st.kNorm = normalize(K, h.dim)
	}
	logits = make([]float32, B*h.T)
	vec.MatMul(logits, st.q, transpose(st.k, h.T, h.dim), B, h.dim, h.T)
	for i := range logits {
		logits[i] *= h.invTemp
	}
	return logits, st
}

type headState struct {
	q, k         []float32 // the (normalised) query and LLM embeddings
	qNorm, kNorm []float32
}

// maskedLogSoftmax0 returns log softmax(a)[0] over the entries with
// mask true (a[0] always in) and the softmax p (0 where masked out).
func maskedLogSoftmax0(a []float64, mask []bool) (float64, []float64) {
	m := math.Inf(-1)
	for j, v := range a {
		if mask[j] {
			m = max(m, v)
		}
	}
	var s float64
	p := make([]float64, len(a))
	for j, v := range a {
		if mask[j] {
			p[j] = math.Exp(v - m)
			s += p[j]
		}
	}
	for j := range p {
		p[j] /= s
	}
	return a[0] - m - math.Log(s), p
}

// lossAndGrads returns the batch loss of LossFn and its gradients with
// respect to emb [B, dim] and K [T, dim].
func (h hostHead) lossAndGrads(emb, K []float32, l BatchLabels) (loss float64, dEmb, dK []float32) {
	B, T, dim := l.B, h.T, h.dim
	logits, st := h.logits(emb, K)
	dLogits := make([]float64, B*T)
	if h.crossEntropy {
		// mean_b -sum_t target log softmax(logits)
		for b := 0; b < B; b++ {
			row := logits[b*T : (b+1)*T]
			m := math.Inf(-1)
			for _, v := range row {
				m = max(m, float64(v))
			}
			var s, tsum float64
			for _, v := range row {
				s += math.Exp(float64(v) - m)
			}
			lse := m + math.Log(s)
			for t, v := range row {
				tg := float64(l.Target[b*T+t])
				loss -= tg * (float64(v) - lse) / float64(B)
				tsum += tg
			}
			for t, v := range row {
				p := math.Exp(float64(v) - lse)
				dLogits[b*T+t] = (p*tsum - float64(l.Target[b*T+t])) / float64(B)
			}
		}
	} else {
		// Per positive i: mean_b -log softmax([pos, kept negatives])[0] x posMask.
		a := make([]float64, T+1)
		mask := make([]bool, T+1)
		mask[0] = true
		for i := 0; i < l.KPos; i++ {
			for b := 0; b < B; b++ {
				row := logits[b*T : (b+1)*T]
				oh := l.PosOneHot[(b*l.KPos+i)*T : (b*l.KPos+i+1)*T]
				var pos float64
				for t, v := range row {
					pos += float64(v) * float64(oh[t])
					a[t+1] = float64(v)
					mask[t+1] = l.NegMask[b*T+t] != 0
				}
				a[0] = float64(float32(pos))
				lp, p := maskedLogSoftmax0(a, mask)
				w := float64(l.PosMask[b*l.KPos+i]) / float64(B)
				loss -= lp * w
				// d(-w lp)/da_j = w (p_j - [j = 0])
				d0 := w * (p[0] - 1)
				for t := range row {
					dLogits[b*T+t] += w*p[t+1] + d0*float64(oh[t])
				}
			}
		}
	}
	// logits = q k^T / temp
	dl := make([]float32, B*T)
	for i, v := range dLogits {
		dl[i] = float32(v) * h.invTemp
	}
	dq := make([]float32, B*dim)
	vec.MatMul(dq, dl, st.k, B, T, dim)
	dk := make([]float32, T*dim)
	vec.MatMul(dk, transpose(dl, B, T), st.q, T, B, dim)
	var dSS []float32 // lambda x the sample-sample loss's gradient wrt normalize(emb)
	if h.lambda != 0 {
		ssLoss, dE := sampleSampleGrads(emb, dim, l)
		loss += h.lambda * ssLoss
		dSS = dE
		for i := range dSS {
			dSS[i] *= float32(h.lambda)
		}
	}
	if h.cosine {
		// Both losses read the same normalised rows.
		for i, v := range dSS {
			dq[i] += v
		}
		return loss, normalizeBack(emb, st.qNorm, dq, dim), normalizeBack(K, st.kNorm, dk, dim)
	}
	if dSS != nil {
		_, norms := normalize(emb, dim)
		for i, v := range normalizeBack(emb, norms, dSS, dim) {
			dq[i] += v
		}
	}
	return loss, dq, dk
}

// sampleSampleGrads is SampleSampleLoss and its gradient with respect to
// the normalised embeddings e = normalize(emb).
func sampleSampleGrads(emb []float32, dim int, l BatchLabels) (float64, []float32) {
	B := l.B
	e, _ := normalize(emb, dim)
	sim := make([]float32, B*B)
	vec.MatMul(sim, e, transpose(e, B, dim), B, dim, B)
	var valid float64
	for _, v := range l.SSValid {
		valid += float64(v)
	}
	n := max(valid, 1)
	a := make([]float64, B+1)
	mask := make([]bool, B+1)
	mask[0] = true
	dSim := make([]float32, B*B)
	var loss float64
	for b := 0; b < B; b++ {
		row := sim[b*B : (b+1)*B]
		var pos float64
		for j, v := range row {
			pos += float64(v) * float64(l.SSPos[b*B+j])
			a[j+1] = float64(v)
			mask[j+1] = l.SSNeg[b*B+j] != 0
		}
		a[0] = float64(float32(pos))
		lp, p := maskedLogSoftmax0(a, mask)
		w := float64(l.SSValid[b]) / n
		loss -= lp * w
		d0 := w * (p[0] - 1)
		for j := range row {
			dSim[b*B+j] = float32(w*p[j+1] + d0*float64(l.SSPos[b*B+j]))
		}
	}
	// sim = e e^T: de = (dSim + dSim^T) e
	sym := make([]float32, B*B)
	for i := 0; i < B; i++ {
		for j := 0; j < B; j++ {
			sym[i*B+j] = dSim[i*B+j] + dSim[j*B+i]
		}
	}
	de := make([]float32, B*dim)
	vec.MatMul(de, sym, e, B, B, dim)
	return loss, de
}
