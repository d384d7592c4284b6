package group

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// DefaultTheta is Barnes-Hut's default accuracy (see TSNEConfig.Theta).
const DefaultTheta = 0.5

// bhLeaf is the most rows a kd-tree leaf holds. A leaf that cannot be
// summarised is summed row by row, so larger leaves mean a shallower tree
// and fewer cell tests but more exact pair terms.
const bhLeaf = 8

// bhKernelFloor2 is added to a cell's squared distance in the opening test
// (see TSNEConfig.Theta). The test is scale-free, but the Student-t kernel
// 1/(1+d^2) is not: t-SNE starts from N(0, 1e-4^2), where every row is
// within ~1e-3 of every other, the kernel is constant to 1e-6 and any
// cell's centre of mass is exact, yet the plain test opens nearly every
// cell of that structureless 5-d cloud (3x the cost of the first 150
// iterations at 30000 rows). With the floor such tiny cells are accepted;
// 0.01 is small against the kernel's unit width, so once the embedding is
// a few tenths across the forces are as accurate as plain Barnes-Hut's
// (TestBarnesHutForces).
const bhKernelFloor2 = 0.01

// bhGroup is the most rows that share one walk of the tree (see forces).
const bhGroup = 32

// barnesHut computes t-SNE's forces in O(N log N) (van der Maaten 2014):
// attraction exactly over the sparse P, repulsion through a space-
// partitioning tree whose far cells act as one point at their centre of
// mass. In 5 dimensions a 2^d-ary tree (quadtree, octree, ...) has 32
// children per cell, mostly empty or nearly so; a kd-tree (binary, split
// at the median of the widest side, cell sizes taken from the rows' tight
// bounding box) keeps every level balanced whatever the dimension.
type barnesHut struct {
	P       *sparseP
	n, dims int
	theta2  float64
	perm    []int32   // tree position -> row
	pts     []float64 // coordinates in tree order (n x dims)
	lo, hi  []int32   // node k's rows are perm[lo[k]:hi[k]]; children 2k+1, 2k+2
	w2      []float64 // node k's widest bounding-box side, squared
	com     []float64 // node k's centre of mass (dims)
	lower   []float64 // node k's bounding box (dims)
	upper   []float64
	groups  []int32 // the nodes whose rows share a tree walk
}

func newBarnesHut(P *sparseP, n, dims int, theta float64) *barnesHut {
	depth := 0
	for (n+(1<<depth)-1)>>depth > bhLeaf {
		depth++
	}
	nodes := 1<<(depth+1) - 1
	// half the side < theta * distance <=> side^2 < 4 theta^2 distance^2
	b := &barnesHut{P: P, n: n, dims: dims, theta2: 4 * theta * theta,
		perm: make([]int32, n), pts: make([]float64, n*dims),
		lo: make([]int32, nodes), hi: make([]int32, nodes),
		w2: make([]float64, nodes), com: make([]float64, nodes*dims),
		lower: make([]float64, nodes*dims), upper: make([]float64, nodes*dims)}
	for i := range b.perm {
		b.perm[i] = int32(i)
	}
	return b
}

// build rebuilds the tree over y. The permutation left by the previous
// iteration is the starting order: the partitions then find rows mostly
// in place. The result depends only on y and that order, both
// deterministic.
func (b *barnesHut) build(y []float64) {
	b.groups = b.groups[:0]
	b.node(y, 0, 0, b.n)
	for a, i := range b.perm {
		copy(b.pts[a*b.dims:(a+1)*b.dims], y[int(i)*b.dims:(int(i)+1)*b.dims])
	}
}

func (b *barnesHut) node(y []float64, k, lo, hi int) {
	dims := b.dims
	b.lo[k], b.hi[k] = int32(lo), int32(hi)
	com := b.com[k*dims : (k+1)*dims]
	lower, up := b.lower[k*dims:(k+1)*dims], b.upper[k*dims:(k+1)*dims]
	first := y[int(b.perm[lo])*dims:]
	for c := 0; c < dims; c++ {
		lower[c], up[c], com[c] = first[c], first[c], 0
	}
	for _, i := range b.perm[lo:hi] {
		yi := y[int(i)*dims : (int(i)+1)*dims]
		for c, v := range yi {
			com[c] += v
			lower[c] = min(lower[c], v)
			up[c] = max(up[c], v)
		}
	}
	inv := 1 / float64(hi-lo)
	split, w := 0, -1.0
	for c := 0; c < dims; c++ {
		com[c] *= inv
		if up[c]-lower[c] > w {
			split, w = c, up[c]-lower[c]
		}
	}
	b.w2[k] = w * w
	if hi-lo <= bhGroup && (k == 0 || int(b.hi[(k-1)/2]-b.lo[(k-1)/2]) > bhGroup) {
		b.groups = append(b.groups, int32(k))
	}
	if hi-lo <= bhLeaf {
		return
	}
	mid := (lo + hi) / 2
	selectNth(b.perm[lo:hi], mid-lo, y, dims, split)
	b.node(y, 2*k+1, lo, mid)
	b.node(y, 2*k+2, mid, hi)
}

// selectNth reorders rows so that rows[nth] is the row that a sort by
// (y[row][c], row) would put there, the rows before it no greater and those
// after no smaller (Hoare's selection; median-of-three pivots, so the
// order depends only on the input).
func selectNth(rows []int32, nth int, y []float64, dims, c int) {
	less := func(a, b int32) bool {
		ya, yb := y[int(a)*dims+c], y[int(b)*dims+c]
		return ya < yb || (ya == yb && a < b)
	}
	lo, hi := 0, len(rows)-1
	for hi > lo {
		m := lo + (hi-lo)/2
		if less(rows[m], rows[lo]) {
			rows[m], rows[lo] = rows[lo], rows[m]
		}
		if less(rows[hi], rows[lo]) {
			rows[hi], rows[lo] = rows[lo], rows[hi]
		}
		if less(rows[hi], rows[m]) {
			rows[hi], rows[m] = rows[m], rows[hi]
		}
		pivot := rows[m]
		i, j := lo, hi
		for i <= j {
			for less(rows[i], pivot) {
				i++
			}
			for less(pivot, rows[j]) {
				j--
			}
			if i <= j {
				rows[i], rows[j] = rows[j], rows[i]
				i++
				j--
			}
		}
		switch {
		case nth <= j:
			hi = j
		case nth >= i:
			lo = i
		default:
			return
		}
	}
}

// forces is optimise's forces callback (see there).
//
// The repulsion uses Barnes' (1990) grouping: the rows of one small
// subtree (at most bhGroup rows) share one walk of the tree, which accepts a
// cell when it is far enough from the group's bounding box (so from each of
// its rows) and lists it; each row then sums the listed cells in one
// vectorisable loop instead of walking the tree itself.
func (b *barnesHut) forces(y, attr, rep, zrow []float64) {
	b.build(y)
	dims, P := b.dims, b.P
	var next atomic.Int64
	var wg sync.WaitGroup
	groups := b.groups
	workers := min(runtime.GOMAXPROCS(0), len(groups))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l cellList
			stack := make([]int32, 0, 64)
			ri := make([]float64, dims)
			scratch := make([]float64, (lanes+1)*dims)
			for {
				gi := int(next.Add(1)) - 1
				if gi >= len(groups) {
					return
				}
				// Each row's sums depend only on the row and the tree, not
				// on which worker ran it.
				g := int(groups[gi])
				own := b.interactions(g, &l, stack)
				for a := int(b.lo[g]); a < int(b.hi[g]); a++ {
					i := int(b.perm[a])
					self := own + a - int(b.lo[g])
					l.mass[self] = 0 // a row does not repel itself
					zrow[i] = l.sum(b.pts[a*dims:(a+1)*dims], ri, scratch)
					l.mass[self] = 1
					copy(rep[i*dims:(i+1)*dims], ri)
					attract(P, y, i, dims, attr[i*dims:(i+1)*dims:(i+1)*dims])
				}
			}
		}()
	}
	wg.Wait()
}

// cellList is what one group's rows interact with: point masses (a cell's
// row count at its centre of mass, or a single row with mass 1), held
// column-major (dims columns of cap) and padded with massless points to a
// multiple of lanes.
type cellList struct {
	dims, len, cap int
	pos            []float64
	mass           []float64
}

func (l *cellList) reset(dims int) {
	l.dims, l.len = dims, 0
	if l.cap == 0 {
		l.grow(dims, 256)
	}
}

func (l *cellList) grow(dims, cap int) {
	pos, mass := make([]float64, dims*cap), make([]float64, cap)
	for c := 0; c < dims; c++ {
		copy(pos[c*cap:c*cap+l.len], l.pos[c*l.cap:c*l.cap+l.len])
	}
	copy(mass, l.mass[:l.len])
	l.pos, l.mass, l.cap = pos, mass, cap
}

func (l *cellList) add(at []float64, m float64) {
	if l.len+lanes > l.cap { // room for the padding too
		l.grow(l.dims, 2*l.cap)
	}
	for c, v := range at {
		l.pos[c*l.cap+l.len] = v
	}
	l.mass[l.len] = m
	l.len++
}

// pad appends massless points up to a multiple of lanes.
func (l *cellList) pad() {
	for l.len%lanes != 0 {
		for c := 0; c < l.dims; c++ {
			l.pos[c*l.cap+l.len] = 0
		}
		l.mass[l.len] = 0
		l.len++
	}
}

// interactions fills l with group g's interaction list, its own rows last
// (in tree order), and returns where they start.
func (b *barnesHut) interactions(g int, l *cellList, stack []int32) int {
	dims := b.dims
	l.reset(dims)
	glo, ghi := b.lo[g], b.hi[g]
	lower, upper := b.lower[g*dims:(g+1)*dims], b.upper[g*dims:(g+1)*dims]
	stack = append(stack[:0], 0)
	for len(stack) > 0 {
		k := int(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		lo, hi := b.lo[k], b.hi[k]
		if lo <= glo && ghi <= hi { // g or an ancestor of g
			if k != g {
				stack = append(stack, int32(2*k+2), int32(2*k+1))
			}
			continue
		}
		com := b.com[k*dims : (k+1)*dims : (k+1)*dims]
		var d2 float64 // from com to the group's box
		for c, v := range com {
			t := max(lower[c]-v, v-upper[c], 0)
			d2 += t * t
		}
		if b.w2[k] < b.theta2*(bhKernelFloor2+d2) {
			l.add(com, float64(hi-lo))
			continue
		}
		if hi-lo > bhLeaf {
			stack = append(stack, int32(2*k+2), int32(2*k+1))
			continue
		}
		for j := lo; j < hi; j++ {
			l.add(b.pts[int(j)*dims:(int(j)+1)*dims], 1)
		}
	}
	own := l.len
	for j := glo; j < ghi; j++ {
		l.add(b.pts[int(j)*dims:(int(j)+1)*dims], 1)
	}
	l.pad()
	return own
}

// sum sets ri = sum_e m_e num_e^2 (y - x_e) and returns sum_e m_e num_e,
// num_e = 1/(1+|y-x_e|^2), over the list's point masses x_e. Like the exact
// repulsion, entries go to lanes by index mod lanes, and cellSum5 must
// reproduce cellSumLanes bit for bit.
func (l *cellList) sum(y, ri, scratch []float64) float64 {
	if l.dims == 5 && haveRepulse5 {
		return cellSum5(l.pos, l.cap, l.mass[:l.len], y, ri)
	}
	return cellSumLanes(l.pos, l.cap, l.mass[:l.len], y, ri, scratch)
}

// cellSumLanes defines the arithmetic of cellList.sum: pos holds len(y)
// columns of stride cap, len(mass) is a multiple of lanes.
func cellSumLanes(pos []float64, cap int, mass, y, ri, scratch []float64) float64 {
	dims := len(y)
	t, acc := scratch[:dims], scratch[dims:(lanes+1)*dims]
	clear(acc)
	var z [lanes]float64
	for j := range mass {
		var d2 float64
		for c := 0; c < dims; c++ {
			t[c] = y[c] - pos[c*cap+j]
			if c == 0 {
				d2 = float64(t[c] * t[c])
			} else {
				d2 += float64(t[c] * t[c])
			}
		}
		q := float64(1 / (1 + d2))
		m := float64(q * mass[j])
		l := j % lanes
		z[l] += m
		m = float64(m * q)
		for c := 0; c < dims; c++ {
			acc[l*dims+c] += float64(m * t[c])
		}
	}
	for c := 0; c < dims; c++ {
		ri[c] = sumLanes(acc[c], acc[dims+c], acc[2*dims+c], acc[3*dims+c])
	}
	return sumLanes(z[0], z[1], z[2], z[3])
}

// attract sets ai = sum_j p_ij num_ij (y_i - y_j) over row i's affinities.
func attract(P *sparseP, y []float64, i, dims int, ai []float64) {
	if dims == 5 {
		if haveRepulse5 {
			attract5SIMD(P, y, i, ai)
		} else {
			attract5Lanes(P, y, i, ai)
		}
		return
	}
	attractGeneric(P, y, i, dims, ai)
}

func attractGeneric(P *sparseP, y []float64, i, dims int, ai []float64) {
	yi := y[i*dims : (i+1)*dims : (i+1)*dims]
	clear(ai)
	for e := P.ptr[i]; e < P.ptr[i+1]; e++ {
		j := int(P.col[e])
		yj := y[j*dims : (j+1)*dims : (j+1)*dims]
		var d2 float64
		for c, v := range yi {
			t := v - yj[c]
			d2 += float64(t * t)
		}
		q := P.val[e] / (1 + d2)
		for c, v := range yi {
			ai[c] += float64(q * (v - yj[c]))
		}
	}
}

// attract5Lanes is attract for 5 dimensions with entry e's terms added to
// lane e%lanes, the lanes combined by sumLanes: the order a vector kernel
// (attract5SIMD) needs; it pads the row to a multiple of lanes with
// entries of weight 0 at y_i itself. The exact method's per-row order is
// not kept: Barnes-Hut's repulsion differs from it anyway.
func attract5Lanes(P *sparseP, y []float64, i int, ai []float64) {
	yi := (*[5]float64)(y[i*5:])
	var acc [lanes][5]float64
	cols, vals := P.col[P.ptr[i]:P.ptr[i+1]], P.val[P.ptr[i]:P.ptr[i+1]]
	for e := 0; e < (len(cols)+lanes-1)/lanes*lanes; e++ {
		yj, v := yi, 0.0
		if e < len(cols) {
			yj, v = (*[5]float64)(y[int(cols[e])*5:]), vals[e]
		}
		var t [5]float64
		var d2 float64
		for c := range t {
			t[c] = yi[c] - yj[c]
			if c == 0 {
				d2 = float64(t[c] * t[c])
			} else {
				d2 += float64(t[c] * t[c])
			}
		}
		q := float64(v / (1 + d2))
		for c := range t {
			acc[e%lanes][c] += float64(q * t[c])
		}
	}
	for c := 0; c < 5; c++ {
		ai[c] = sumLanes(acc[0][c], acc[1][c], acc[2][c], acc[3][c])
	}
}

// kdOrder returns the rows of f (n x p, row-major) in the leaf order of a
// kd-tree (median splits of the widest side), which keeps near rows near
// in the order.
func kdOrder(f []float64, n, p int) []int32 {
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	var split func(rows []int32)
	split = func(rows []int32) {
		if len(rows) <= 2*bhLeaf {
			return
		}
		c, w := 0, -1.0
		for d := 0; d < p; d++ {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, i := range rows {
				v := f[int(i)*p+d]
				lo, hi = min(lo, v), max(hi, v)
			}
			if hi-lo > w {
				c, w = d, hi-lo
			}
		}
		mid := len(rows) / 2
		selectNth(rows, mid, f, p, c)
		split(rows[:mid])
		split(rows[mid:])
	}
	split(order)
	return order
}
