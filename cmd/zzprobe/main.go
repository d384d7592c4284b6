package main

import (
	"fmt"
	"os"
	"time"

	"github.com/routerdc-go/routerdc/pipeline/data"
	"github.com/routerdc-go/routerdc/pipeline/encode"
	"github.com/routerdc-go/routerdc/pipeline/train"
)

func main() {
	col, err := data.Builtin(os.Getenv("ROUTERDC_DATA"))
	if err != nil {
		panic(err)
	}
	set, err := train.Prepare(col, 0, 0, 1)
	if err != nil {
		panic(err)
	}
	seen := map[string]bool{}
	var texts []string
	for _, q := range train.Questions(set.Train) {
		if !seen[q] {
			seen[q] = true
			texts = append(texts, q)
		}
	}
	t0 := time.Now()
	s, err := encode.FitSVD(encode.HashedConfig{Bits: 18}, 256, texts, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println("fit", time.Since(t0), s.Name())
	t1 := time.Now()
	if err := s.Save("/tmp/svd.json"); err != nil {
		panic(err)
	}
	fmt.Println("save", time.Since(t1))
	t2 := time.Now()
	l, err := encode.LoadSVD("/tmp/svd.json")
	fmt.Println("load", time.Since(t2), err)
	t3 := time.Now()
	x, _ := l.Encode(texts[:1000])
	y, _ := s.Encode(texts[:1000])
	fmt.Println("encode 1000", time.Since(t3)/2, len(x[0]), x[5][:3], y[5][:3])
	t4 := time.Now()
	for i := 0; i < 1000; i++ {
		s.Encode(texts[i : i+1])
	}
	fmt.Println("one by one per query", time.Since(t4)/1000)
}
