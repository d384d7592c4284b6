package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/group"
	"github.com/routerdc-go/routerdc/pipeline/router"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

// scaleQueries is RouterBench's scale: ~36500 prompts, ~30000 of them for
// training.
const scaleQueries = 30000

// syntheticQueries makes n prompt-like texts from `topics` topics (a
// RouterBench task each: its own Zipf-distributed vocabulary, mixed with a
// shared one), seeded, so the encoder's hashed n-gram features have the
// sparsity and the loose cluster structure of real prompts.
func syntheticQueries(n, topics int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	word := func() string {
		b := make([]byte, 3+rng.IntN(7))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	vocab := func(m int) []string {
		v := make([]string, m)
		for i := range v {
			v[i] = word()
		}
		return v
	}
	shared := vocab(3000)
	own := make([][]string, topics)
	for t := range own {
		own[t] = vocab(800)
	}
	zipf := func(v []string) string { // P(rank r) ~ 1/(r+1)
		return v[int(float64(len(v))*rng.Float64()*rng.Float64())]
	}
	texts := make([]string, n)
	var sb strings.Builder
	for i := range texts {
		t := rng.IntN(topics)
		sb.Reset()
		for w := 10 + rng.IntN(110); w > 0; w-- {
			if rng.IntN(10) < 4 {
				sb.WriteString(zipf(shared))
			} else {
				sb.WriteString(zipf(own[t]))
			}
			sb.WriteByte(' ')
		}
		texts[i] = sb.String()
	}
	return texts
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// BenchmarkScaleGrouping: the grouping stage (t-SNE to 5 dims, Barnes-Hut
// above group.ExactTSNEMaxRows rows, then k-means) on 30000 synthetic
// prompts' default hashed features (4096 wide). Target: <= 120 s wall on
// 2 cores, peak RSS well under 4 GiB. peak_rss_MiB is the whole process's
// peak, the 470 MiB feature matrix included; cpu_s is user+system time,
// which a loaded machine inflates less than wall time.
func BenchmarkScaleGrouping(b *testing.B) {
	texts := syntheticQueries(scaleQueries, 8, 1)
	p := router.ReadParams(router.NewStore(1))
	enc := encode.NewHashed(encode.HashedConfig{Bits: p.EncoderBits})
	enc.Fit(texts)
	x, err := enc.Encode(texts)
	if err != nil {
		b.Fatal(err)
	}
	if len(x) <= group.ExactTSNEMaxRows {
		b.Fatal(fmt.Sprintf("%d rows would not take the Barnes-Hut path", len(x)))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start, cpu := time.Now(), cpuSeconds()
		if _, err := train.OurGroups(x, p, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "wall_s")
		b.ReportMetric(cpuSeconds()-cpu, "cpu_s")
	}
	b.ReportMetric(peakRSSMiB(), "peak_rss_MiB")
}
