package group

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/routerdc-go/routerdc/pipeline/parallel"
)

// DefaultMaxIter is the Lloyd iteration cap used when maxIter <= 0.
const DefaultMaxIter = 100

// KMeans clusters the rows of x into k groups: k-means++ seeding, then Lloyd
// iterations until no assignment changes or maxIter iterations ran
// (DefaultMaxIter when maxIter <= 0).
//
// Distance is squared Euclidean on the rows as given. For L2-normalised rows
// (every Encoder's output) ||x-c||^2 = 1 + ||c||^2 - 2 x.c, which orders
// centroids almost as cosine does (spherical k-means differs only in
// renormalising the centroids).
//
// The result depends only on (x, k, seed, maxIter): the random stream is a
// fixed SplitMix64, ties go to the lowest centroid index, and sums run in row
// order, so it is identical across runs, GOMAXPROCS and Go versions. An empty
// cluster is re-seeded with the row farthest from its current centroid.
// assign[i] is in [0,k) and is always Nearest(x[i], centroids) (on
// convergence the centroids are also the cluster means); centroids are k
// rows of len(x[0]).
func KMeans(x [][]float32, k int, seed int64, maxIter int) (assign []int, centroids [][]float64, err error) {
	n := len(x)
	switch {
	case k < 1:
		return nil, nil, fmt.Errorf("group: kmeans with k = %d", k)
	case n == 0:
		return nil, nil, errors.New("group: kmeans on no rows")
	case k > n:
		return nil, nil, fmt.Errorf("group: kmeans with k = %d > %d rows", k, n)
	}
	dim := len(x[0])
	for i, r := range x {
		if len(r) != dim {
			return nil, nil, fmt.Errorf("group: kmeans row %d has %d columns, row 0 has %d", i, len(r), dim)
		}
	}
	if maxIter <= 0 {
		maxIter = DefaultMaxIter
	}
	rng := splitMix64(uint64(seed))
	sqn := make([]float64, n)
	for i, r := range x {
		sqn[i] = dot32(r, r)
	}

	centroids = seedPlusPlus(x, sqn, k, &rng)
	assign = make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	dist := make([]float64, n) // squared distance of each row to its centroid
	for it := 0; ; it++ {
		changed := assignAll(x, sqn, centroids, assign, dist)
		if changed == 0 || it+1 >= maxIter {
			break // assign is always the nearest-centroid assignment
		}
		centroids = updateCentroids(x, assign, dist, k, dim)
	}
	return assign, centroids, nil
}

// Nearest returns the index of the centroid closest to v (squared Euclidean,
// ties to the lowest index) and that squared distance.
func Nearest(v []float32, centroids [][]float64) (int, float64) {
	return nearest(v, dot32(v, v), centroids)
}

func nearest(v []float32, sqn float64, centroids [][]float64) (int, float64) {
	best, bestD := -1, math.Inf(1)
	for c, cen := range centroids {
		var d, cc float64
		for j, x := range v {
			d += float64(x) * cen[j]
			cc += cen[j] * cen[j]
		}
		dd := sqn - 2*d + cc
		if dd < 0 {
			dd = 0
		}
		if dd < bestD {
			best, bestD = c, dd
		}
	}
	return best, bestD
}

// seedPlusPlus: first centre uniform, then each next centre drawn with
// probability proportional to the squared distance to the nearest chosen one.
func seedPlusPlus(x [][]float32, sqn []float64, k int, rng *splitMix64) [][]float64 {
	n := len(x)
	cents := make([][]float64, 0, k)
	chosen := make([]bool, n)
	pick := func(i int) {
		chosen[i] = true
		c := make([]float64, len(x[i]))
		for j, v := range x[i] {
			c[j] = float64(v)
		}
		cents = append(cents, c)
	}
	pick(int(rng.next() % uint64(n)))
	d2 := make([]float64, n)
	for i := range d2 {
		d2[i] = math.Inf(1)
	}
	for len(cents) < k {
		last := cents[len(cents)-1:]
		parallel.Rows(n, 256, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if _, d := nearest(x[i], sqn[i], last); d < d2[i] {
					d2[i] = d
				}
			}
		})
		var total float64
		for i, d := range d2 {
			if !chosen[i] {
				total += d
			}
		}
		next := -1
		if total > 0 {
			r := rng.float64() * total
			for i, d := range d2 {
				if chosen[i] || d == 0 {
					continue
				}
				next = i
				r -= d
				if r < 0 {
					break
				}
			}
		} else { // all remaining rows duplicate a centre: take the first unused
			for i := range chosen {
				if !chosen[i] {
					next = i
					break
				}
			}
		}
		pick(next)
	}
	return cents
}

// assignAll sets assign/dist to each row's nearest centroid and returns how
// many assignments changed.
func assignAll(x [][]float32, sqn []float64, cents [][]float64, assign []int, dist []float64) int {
	// Precompute centroid norms once per iteration.
	cn := make([]float64, len(cents))
	for c, cen := range cents {
		for _, v := range cen {
			cn[c] += v * v
		}
	}
	var mu sync.Mutex
	changed := 0
	parallel.Rows(len(x), 256, func(lo, hi int) {
		ch := 0
		for i := lo; i < hi; i++ {
			best, bestD := -1, math.Inf(1)
			for c, cen := range cents {
				var d float64
				for j, v := range x[i] {
					d += float64(v) * cen[j]
				}
				dd := sqn[i] - 2*d + cn[c]
				if dd < 0 {
					dd = 0
				}
				if dd < bestD {
					best, bestD = c, dd
				}
			}
			if assign[i] != best {
				assign[i] = best
				ch++
			}
			dist[i] = bestD
		}
		mu.Lock()
		changed += ch
		mu.Unlock()
	})
	return changed
}

// updateCentroids averages each cluster's rows (in row order); an empty
// cluster takes the row farthest from its centroid (lowest index on ties)
// among rows whose cluster keeps at least one other member.
func updateCentroids(x [][]float32, assign []int, dist []float64, k, dim int) [][]float64 {
	cents := make([][]float64, k)
	size := make([]int, k)
	for c := range cents {
		cents[c] = make([]float64, dim)
	}
	for i, a := range assign {
		size[a]++
		for j, v := range x[i] {
			cents[a][j] += float64(v)
		}
	}
	for c := 0; c < k; c++ {
		if size[c] > 0 {
			continue
		}
		far, farD := -1, -1.0
		for i, d := range dist {
			if size[assign[i]] > 1 && d > farD {
				far, farD = i, d
			}
		}
		if far < 0 {
			continue // fewer distinct rows than k; leave the centroid at 0
		}
		from := assign[far]
		for j, v := range x[far] {
			cents[from][j] -= float64(v)
			cents[c][j] = float64(v)
		}
		size[from]--
		size[c] = 1
		assign[far] = c
		dist[far] = 0
	}
	for c := range cents {
		if size[c] > 1 {
			inv := 1 / float64(size[c])
			for j := range cents[c] {
				cents[c][j] *= inv
			}
		}
	}
	return cents
}

func dot32(a, b []float32) float64 {
	var s float64
	for i, v := range a {
		s += float64(v) * float64(b[i])
	}
	return s
}

// splitMix64 is a tiny fixed PRNG (Steele et al.), so seeded results never
// depend on the standard library's generators.
type splitMix64 uint64

func (s *splitMix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float64 returns a uniform value in [0,1).
func (s *splitMix64) float64() float64 { return float64(s.next()>>11) / (1 << 53) }
