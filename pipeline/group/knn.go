package group

import "github.com/routerdc-go/routerdc/pipeline/parallel"

// knnBlock is how many candidate rows are compared with every query row
// before moving on: their coordinates, held column-major, are 256 x 50
// float64 = 100 KiB, so they stay in cache while all the query rows stream
// past. A multiple of knnTile.
const knnBlock = 256

// knnTile is how many query rows one kernel call handles; each candidate
// coordinate loaded is used knnTile times.
const knnTile = 4

// affinitiesTiled is affinities with the same result, bit for bit (the
// same neighbours, distances and sums), but the O(N^2 p) neighbour search
// is blocked for the cache and vectorised: each squared distance is still
// sum_c (f_ic - f_jc)^2 added in c order, so only the speed changes.
func affinitiesTiled(f []float64, n, p int, perplexity float64) *sparseP {
	k := min(n-1, int(3*perplexity)+1)
	nb := (n + knnBlock - 1) / knnBlock
	// blocks[b] holds candidate rows b*knnBlock.. column-major (p x
	// knnBlock); rows past n are zero and never offered.
	blocks := make([]float64, nb*p*knnBlock)
	for j := 0; j < n; j++ {
		b, jj := j/knnBlock, j%knnBlock
		blk := blocks[b*p*knnBlock : (b+1)*p*knnBlock]
		for c := 0; c < p; c++ {
			blk[c*knnBlock+jj] = f[j*p+c]
		}
	}
	heaps := make([]knnEntry, n*k)
	nbr := make([]int32, n*k)
	cond := make([]float64, n*k)
	tiles := (n + knnTile - 1) / knnTile
	parallel.Rows(tiles, 4, func(tlo, thi int) {
		lo, hi := tlo*knnTile, min(thi*knnTile, n)
		hs := make([]knnHeap, hi-lo)
		for i := range hs {
			hs[i] = heaps[(lo+i)*k : (lo+i)*k : (lo+i+1)*k]
		}
		q := make([]float64, knnTile*p)
		out := make([]float64, knnTile*knnBlock)
		for b := 0; b < nb; b++ {
			blk := blocks[b*p*knnBlock : (b+1)*p*knnBlock]
			jmax := min(knnBlock, n-b*knnBlock)
			for t := lo; t < hi; t += knnTile {
				rows := min(knnTile, hi-t)
				clear(q)
				copy(q, f[t*p:(t+rows)*p])
				distTile(q, blk, p, out)
				for r := 0; r < rows; r++ {
					i := t + r
					h := &hs[i-lo]
					d := out[r*knnBlock : r*knnBlock+jmax]
					for jj, v := range d {
						s := *h
						if len(s) == k && v > s[0].d {
							continue // the common case, kept out of offer
						}
						if j := b*knnBlock + jj; j != i {
							h.offer(v, int32(j), k)
						}
					}
				}
			}
		}
		dist := make([]float64, k)
		for i := lo; i < hi; i++ {
			h := hs[i-lo]
			h.sortAscending()
			for a, e := range h {
				nbr[i*k+a], dist[a] = e.j, e.d
			}
			conditional(dist, perplexity, cond[i*k:(i+1)*k])
		}
	})
	return symmetrise(nbr, cond, n, k)
}

// distTile sets out[r*knnBlock+j] to the squared distance between query
// row r of q (knnTile rows of p, row-major) and candidate j of blk (p x
// knnBlock, column-major), summing (q_rc - blk_cj)^2 in c order.
func distTile(q, blk []float64, p int, out []float64) {
	if haveDistTile {
		distTileSIMD(q, blk, p, out)
		return
	}
	distTileScalar(q, blk, p, out)
}

// distTileScalar defines distTile's arithmetic; the float64 conversions
// stop the compiler fusing multiply and add, which the vector kernel and
// affinities' loop do not do either.
func distTileScalar(q, blk []float64, p int, out []float64) {
	for r := 0; r < knnTile; r++ {
		qr := q[r*p : (r+1)*p]
		o := out[r*knnBlock : (r+1)*knnBlock]
		for j := range o {
			var d float64
			for c, v := range qr {
				t := v - blk[c*knnBlock+j]
				d += float64(t * t)
			}
			o[j] = d
		}
	}
}
