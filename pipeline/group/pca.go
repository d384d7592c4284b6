package group

import (
	"math"
	"sort"

	"github.com/routerdc-go/routerdc/pipeline/parallel"
)

// pcaPowerIters and pcaOversample follow Halko, Martinsson & Tropp (2011):
// a few power iterations and ~10 extra columns make the randomized range
// finder accurate enough for the slowly decaying spectra of text features.
const (
	pcaPowerIters = 3
	pcaOversample = 10
	// pcaBlocks fixes how the X^T Q reduction is split, so its float sums
	// do not depend on GOMAXPROCS.
	pcaBlocks = 16
)

// pca projects the centred rows of x onto their top k principal axes and
// returns the n x k scores (row-major, flat) and the number of columns
// actually produced: min(k, n, d), or d when d <= k (then the rows are only
// centred: nothing is lost by keeping every column).
//
// It uses a seeded randomized SVD (range finder with power iterations,
// re-orthonormalised by Gram-Schmidt, then a Jacobi eigensolve of the small
// l x l matrix): the 5000 x 4096 training matrix never needs a dense
// d x d covariance or a full SVD. Every sum runs in a fixed order, so the
// result depends only on (x, k, seed). Columns come in decreasing variance;
// each column's sign makes its largest-magnitude score positive.
func pca(x [][]float32, k int, seed int64) (scores []float64, cols int) {
	n, d := len(x), len(x[0])
	mu := make([]float64, d)
	for _, r := range x {
		for j, v := range r {
			mu[j] += float64(v)
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	if d <= k {
		out := make([]float64, n*d)
		parallel.Rows(n, 64, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				for j, v := range x[i] {
					out[i*d+j] = float64(v) - mu[j]
				}
			}
		})
		return out, d
	}
	k = min(k, n)
	l := min(k+pcaOversample, n, d)

	rng := splitMix64(uint64(seed) ^ 0x5ca1ab1e)
	omega := make([]float64, d*l)
	for i := range omega {
		omega[i] = rng.normal()
	}
	q := make([]float64, n*l)
	mulXc(x, mu, omega, l, q)
	orthonormalize(q, n, l)
	z := make([]float64, d*l)
	for it := 0; it < pcaPowerIters; it++ {
		mulXcT(x, mu, q, l, z)
		orthonormalize(z, d, l)
		mulXc(x, mu, z, l, q)
		orthonormalize(q, n, l)
	}
	// Xc ~ Q B with B = (Xc^T Q)^T; B B^T = Z^T Z gives B's left singular
	// vectors U and values S, and the scores Xc V = Q U S.
	mulXcT(x, mu, q, l, z)
	g := make([]float64, l*l)
	for a := 0; a < l; a++ {
		for b := a; b < l; b++ {
			var s float64
			for r := 0; r < d; r++ {
				s += z[r*l+a] * z[r*l+b]
			}
			g[a*l+b], g[b*l+a] = s, s
		}
	}
	vals, vecs := jacobiEigen(g, l)
	w := make([]float64, l*k) // U_k S_k
	for c := 0; c < k; c++ {
		s := math.Sqrt(max(vals[c], 0))
		for a := 0; a < l; a++ {
			w[a*k+c] = vecs[a*l+c] * s
		}
	}
	scores = make([]float64, n*k)
	parallel.Rows(n, 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			qi, si := q[i*l:(i+1)*l], scores[i*k:(i+1)*k]
			for a, qa := range qi {
				wa := w[a*k : (a+1)*k]
				for c := range si {
					si[c] += qa * wa[c]
				}
			}
		}
	})
	for c := 0; c < k; c++ {
		big := 0.0
		for i := 0; i < n; i++ {
			if v := scores[i*k+c]; math.Abs(v) > math.Abs(big) {
				big = v
			}
		}
		if big < 0 {
			for i := 0; i < n; i++ {
				scores[i*k+c] = -scores[i*k+c]
			}
		}
	}
	return scores, k
}

// mulXc sets out (n x l) = (X - 1 mu^T) m for m (d x l); zero features are
// skipped because text feature rows are sparse.
func mulXc(x [][]float32, mu, m []float64, l int, out []float64) {
	d := len(mu)
	c := make([]float64, l) // mu^T m
	for j := 0; j < d; j++ {
		for a := 0; a < l; a++ {
			c[a] += mu[j] * m[j*l+a]
		}
	}
	parallel.Rows(len(x), 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o := out[i*l : (i+1)*l]
			for a := range o {
				o[a] = -c[a]
			}
			for j, v := range x[i] {
				if v == 0 {
					continue
				}
				fv, mj := float64(v), m[j*l:(j+1)*l]
				for a := range o {
					o[a] += fv * mj[a]
				}
			}
		}
	})
}

// mulXcT sets out (d x l) = (X - 1 mu^T)^T q for q (n x l). The row sum is
// split into pcaBlocks fixed blocks added in order (deterministic whatever
// the worker count).
func mulXcT(x [][]float32, mu, q []float64, l int, out []float64) {
	n, d := len(x), len(mu)
	nb := min(pcaBlocks, n)
	parts := make([][]float64, nb)
	parallel.Rows(nb, 1, func(blo, bhi int) {
		for b := blo; b < bhi; b++ {
			p := make([]float64, d*l)
			for i := b * n / nb; i < (b+1)*n/nb; i++ {
				qi := q[i*l : (i+1)*l]
				for j, v := range x[i] {
					if v == 0 {
						continue
					}
					fv, pj := float64(v), p[j*l:(j+1)*l]
					for a, qa := range qi {
						pj[a] += fv * qa
					}
				}
			}
			parts[b] = p
		}
	})
	colSum := make([]float64, l) // 1^T q
	for i := 0; i < n; i++ {
		for a := 0; a < l; a++ {
			colSum[a] += q[i*l+a]
		}
	}
	for j := 0; j < d; j++ {
		for a := 0; a < l; a++ {
			s := -mu[j] * colSum[a]
			for _, p := range parts {
				s += p[j*l+a]
			}
			out[j*l+a] = s
		}
	}
}

// orthonormalize replaces the l columns of the m x l row-major matrix a by
// an orthonormal basis of their span (modified Gram-Schmidt, run twice for
// numerical orthogonality). A column that vanishes becomes zero.
func orthonormalize(a []float64, m, l int) {
	for pass := 0; pass < 2; pass++ {
		for c := 0; c < l; c++ {
			for p := 0; p < c; p++ {
				var dot float64
				for r := 0; r < m; r++ {
					dot += a[r*l+c] * a[r*l+p]
				}
				for r := 0; r < m; r++ {
					a[r*l+c] -= dot * a[r*l+p]
				}
			}
			var nrm float64
			for r := 0; r < m; r++ {
				nrm += a[r*l+c] * a[r*l+c]
			}
			inv := 0.0
			if nrm > 1e-300 {
				inv = 1 / math.Sqrt(nrm)
			}
			for r := 0; r < m; r++ {
				a[r*l+c] *= inv
			}
		}
	}
}

// jacobiEigen diagonalises the symmetric n x n matrix a (row-major; it is
// overwritten) by cyclic Jacobi rotations and returns the eigenvalues in
// decreasing order with the matching eigenvectors as columns of vecs.
func jacobiEigen(a []float64, n int) (vals, vecs []float64) {
	v := make([]float64, n*n)
	for i := 0; i < n; i++ {
		v[i*n+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off, diag float64
		for i := 0; i < n; i++ {
			diag += a[i*n+i] * a[i*n+i]
			for j := i + 1; j < n; j++ {
				off += a[i*n+j] * a[i*n+j]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				apq := a[p*n+q]
				if apq == 0 {
					continue
				}
				theta := (a[q*n+q] - a[p*n+p]) / (2 * apq)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ { // columns p, q
					akp, akq := a[k*n+p], a[k*n+q]
					a[k*n+p], a[k*n+q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := 0; k < n; k++ { // rows p, q
					apk, aqk := a[p*n+k], a[q*n+k]
					a[p*n+k], a[q*n+k] = c*apk-s*aqk, s*apk+c*aqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := v[k*n+p], v[k*n+q]
					v[k*n+p], v[k*n+q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return a[order[x]*n+order[x]] > a[order[y]*n+order[y]] })
	vals = make([]float64, n)
	vecs = make([]float64, n*n)
	for c, o := range order {
		vals[c] = a[o*n+o]
		for r := 0; r < n; r++ {
			vecs[r*n+c] = v[r*n+o]
		}
	}
	return vals, vecs
}

// normal returns a standard normal deviate (Box-Muller; one per call keeps
// the stream simple to reason about).
func (s *splitMix64) normal() float64 {
	u1 := 1 - s.float64() // (0,1]: log stays finite
	u2 := s.float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
