// Package parallel splits row-wise work across goroutines.
package parallel

import (
	"runtime"
	"sync"
)

// Rows runs fn over contiguous chunks of [0,n) on up to GOMAXPROCS
// goroutines, none smaller than minChunk rows. Each row is handled by one
// goroutine only, so results do not depend on scheduling.
func Rows(n, minChunk int, fn func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if m := n / max(minChunk, 1); m < w {
		w = m
	}
	if w <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := 0; p < w; p++ {
		lo, hi := p*n/w, (p+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
