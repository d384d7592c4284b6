package group

import (
	"math"
	"runtime"
	"testing"
)

// blobs returns k well-separated Gaussian-ish blobs of m points each in dim
// dimensions, with the true label of each row.
func blobs(k, m, dim int, seed uint64) ([][]float32, []int) {
	rng := splitMix64(seed)
	var x [][]float32
	var label []int
	for c := 0; c < k; c++ {
		centre := make([]float64, dim)
		centre[c%dim] = 10 * float64(1+c/dim)
		for i := 0; i < m; i++ {
			r := make([]float32, dim)
			for j := range r {
				// sum of uniforms: roughly normal with sd ~0.5
				u := rng.float64() + rng.float64() + rng.float64() - 1.5
				r[j] = float32(centre[j] + u)
			}
			x = append(x, r)
			label = append(label, c)
		}
	}
	// Interleave so that clusters are not contiguous in row order.
	px, pl := make([][]float32, len(x)), make([]int, len(x))
	for i := range x {
		j := (i * 7919) % len(x)
		px[i], pl[i] = x[j], label[j]
	}
	return px, pl
}

func TestKMeansRecoversBlobs(t *testing.T) {
	x, label := blobs(5, 60, 8, 1)
	for seed := int64(0); seed < 5; seed++ {
		assign, cents, err := KMeans(x, 5, seed, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(cents) != 5 || len(cents[0]) != 8 {
			t.Fatalf("centroids %dx%d", len(cents), len(cents[0]))
		}
		// Each true blob must map to exactly one cluster, and vice versa.
		blobToCluster := map[int]int{}
		clusterToBlob := map[int]int{}
		for i, a := range assign {
			if c, ok := blobToCluster[label[i]]; ok && c != a {
				t.Fatalf("seed %d: blob %d split across clusters %d and %d", seed, label[i], c, a)
			}
			if b, ok := clusterToBlob[a]; ok && b != label[i] {
				t.Fatalf("seed %d: cluster %d mixes blobs %d and %d", seed, a, b, label[i])
			}
			blobToCluster[label[i]] = a
			clusterToBlob[a] = label[i]
		}
		for i := range x {
			if c, _ := Nearest(x[i], cents); c != assign[i] {
				t.Fatalf("row %d assigned %d but nearest centroid is %d", i, assign[i], c)
			}
		}
	}
}

func TestKMeansDeterministic(t *testing.T) {
	x, _ := blobs(4, 200, 16, 2) // 800 rows: the parallel paths run
	a1, c1, _ := KMeans(x, 7, 42, 50)
	prev := runtime.GOMAXPROCS(1)
	a2, c2, _ := KMeans(x, 7, 42, 50)
	runtime.GOMAXPROCS(prev)
	for i := range a1 {
		if a1[i] != a2[i] {
			t.Fatalf("row %d: %d vs %d", i, a1[i], a2[i])
		}
	}
	for c := range c1 {
		for j := range c1[c] {
			if c1[c][j] != c2[c][j] {
				t.Fatalf("centroid %d[%d]: %v vs %v", c, j, c1[c][j], c2[c][j])
			}
		}
	}
	// A different seed changes the k-means++ draw (k=7 > 4 blobs, so the
	// solution is not unique).
	a3, _, _ := KMeans(x, 7, 43, 50)
	same := true
	for i := range a1 {
		if a1[i] != a3[i] {
			same = false
		}
	}
	if same {
		t.Log("note: seeds 42 and 43 gave the same clustering")
	}
}

func TestKMeansErrors(t *testing.T) {
	x, _ := blobs(2, 3, 2, 3)
	if _, _, err := KMeans(x, 7, 0, 10); err == nil {
		t.Error("k > n accepted")
	}
	if _, _, err := KMeans(x, 0, 0, 10); err == nil {
		t.Error("k = 0 accepted")
	}
	if _, _, err := KMeans(nil, 1, 0, 10); err == nil {
		t.Error("no rows accepted")
	}
	if _, _, err := KMeans([][]float32{{1, 2}, {1}}, 1, 0, 10); err == nil {
		t.Error("ragged rows accepted")
	}
}

func TestKMeansEdgeCases(t *testing.T) {
	x, _ := blobs(2, 3, 2, 4)
	// k == n: every row its own cluster, centroid = the row.
	assign, cents, err := KMeans(x, len(x), 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i, a := range assign {
		seen[a] = true
		for j := range x[i] {
			if math.Abs(cents[a][j]-float64(x[i][j])) > 1e-6 {
				t.Fatalf("row %d not at its centroid", i)
			}
		}
	}
	if len(seen) != len(x) {
		t.Errorf("k = n: %d distinct clusters of %d", len(seen), len(x))
	}
	// k == 1: the mean.
	_, cents, _ = KMeans(x, 1, 1, 10)
	for j := range cents[0] {
		var m float64
		for i := range x {
			m += float64(x[i][j])
		}
		if math.Abs(cents[0][j]-m/float64(len(x))) > 1e-9 {
			t.Errorf("k = 1: centroid[%d] = %v, mean %v", j, cents[0][j], m/float64(len(x)))
		}
	}
	// Duplicates: fewer distinct rows than k must not panic.
	dup := [][]float32{{1, 1}, {1, 1}, {1, 1}, {2, 2}}
	if a, _, err := KMeans(dup, 3, 0, 10); err != nil || len(a) != 4 {
		t.Errorf("duplicates: %v %v", a, err)
	}
}
