package group

import (
	"fmt"
	"math"
	"slices"
)

// Groups is the paper's grouping stage: t-SNE of x to cfg.Dims dimensions
// (see TSNE), then k-means (KMeans, seeded with cfg.Seed) into n groups on
// the embedding. It returns each row's group in [0,n) and the embedding.
func Groups(x [][]float32, n int, cfg TSNEConfig) (assign []int, emb [][]float64, err error) {
	if _, err := checkRows(x, "groups"); err != nil {
		return nil, nil, err
	}
	switch {
	case n < 1:
		return nil, nil, fmt.Errorf("group: %d groups requested, need at least 1", n)
	case n > len(x):
		return nil, nil, fmt.Errorf("group: %d groups requested for %d rows", n, len(x))
	}
	emb, err = TSNE(x, cfg, nil)
	if err != nil {
		return nil, nil, err
	}
	e32 := make([][]float32, len(emb))
	for i, r := range emb {
		e32[i] = make([]float32, len(r))
		for j, v := range r {
			e32[i][j] = float32(v)
		}
	}
	assign, _, err = KMeans(e32, n, cfg.Seed, 0)
	if err != nil {
		return nil, nil, err
	}
	return assign, emb, nil
}

// Contingency returns the table of co-occurrence counts of two labelings of
// the same items: rows are the distinct labels of a in increasing order,
// columns those of b. It panics if len(a) != len(b).
func Contingency(a, b []int) [][]int {
	if len(a) != len(b) {
		panic(fmt.Sprintf("group: contingency of labelings of %d and %d items", len(a), len(b)))
	}
	ra, rb := ranks(a), ranks(b)
	t := make([][]int, len(ra))
	for i := range t {
		t[i] = make([]int, len(rb))
	}
	for i := range a {
		t[ra[a[i]]][rb[b[i]]]++
	}
	return t
}

// ranks maps each distinct label to its position among the sorted labels.
func ranks(a []int) map[int]int {
	u := slices.Clone(a)
	slices.Sort(u)
	u = slices.Compact(u)
	m := make(map[int]int, len(u))
	for i, v := range u {
		m[v] = i
	}
	return m
}

func margins(t [][]int) (rows, cols []float64, n float64) {
	if len(t) > 0 {
		cols = make([]float64, len(t[0]))
	}
	rows = make([]float64, len(t))
	for i, r := range t {
		for j, v := range r {
			rows[i] += float64(v)
			cols[j] += float64(v)
			n += float64(v)
		}
	}
	return rows, cols, n
}

// ARI is the adjusted Rand index of two labelings (Hubert & Arabie 1985):
// 1 for identical partitions (whatever the label names), about 0 for
// independent ones, possibly negative. Two identical trivial partitions
// (both one group, or both all singletons), where the index is 0/0, score 1
// as in scikit-learn. It panics if len(a) != len(b).
func ARI(a, b []int) float64 {
	t := Contingency(a, b)
	if len(a) < 2 { // no pairs to count
		return 1
	}
	rows, cols, n := margins(t)
	pairs := func(x float64) float64 { return x * (x - 1) / 2 }
	var index, sa, sb float64
	for _, r := range t {
		for _, v := range r {
			index += pairs(float64(v))
		}
	}
	for _, v := range rows {
		sa += pairs(v)
	}
	for _, v := range cols {
		sb += pairs(v)
	}
	expected := sa * sb / pairs(n)
	maxIndex := (sa + sb) / 2
	if maxIndex == expected { // only when both are all-one-group or all-singletons
		return 1
	}
	return (index - expected) / (maxIndex - expected)
}

// NMI is the normalised mutual information of two labelings with the
// arithmetic-mean normalisation MI / ((H(a)+H(b))/2) (scikit-learn's
// default): 1 for identical partitions, 0 for independent ones. When both
// labelings are a single group it is 1, when only one is, 0. It panics if
// len(a) != len(b).
func NMI(a, b []int) float64 {
	t := Contingency(a, b)
	rows, cols, n := margins(t)
	entropy := func(m []float64) float64 {
		var h float64
		for _, v := range m {
			if v > 0 {
				h -= v / n * math.Log(v/n)
			}
		}
		return h
	}
	ha, hb := entropy(rows), entropy(cols)
	if ha == 0 && hb == 0 {
		return 1
	}
	var mi float64
	for i, r := range t {
		for j, v := range r {
			if v > 0 {
				fv := float64(v)
				mi += fv / n * math.Log(n*fv/(rows[i]*cols[j]))
			}
		}
	}
	return max(mi/((ha+hb)/2), 0)
}
