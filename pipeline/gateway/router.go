package gateway

import (
	"context"
	"errors"

	"github.com/routerdc-go/routerdc/pipeline/routerdir"
)

// Router gives each text a probability per LLM, in the order of LLMs().
type Router interface {
	LLMs() []string
	Probabilities(texts []string) ([][]float64, error)
}

// dirRouter is a trained router directory as a Router.
type dirRouter struct{ r *routerdir.Router }

// FromDir adapts a loaded router directory (any kind): the probabilities
// are those `routerdc route` prints.
func FromDir(r *routerdir.Router) Router { return dirRouter{r} }

func (d dirRouter) LLMs() []string { return d.r.Meta.LLMs }

func (d dirRouter) Probabilities(texts []string) ([][]float64, error) {
	s, err := d.r.Scores(texts)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(s))
	for i, row := range s {
		out[i] = d.r.Probabilities(row)
	}
	return out, nil
}

// maxBatch bounds the texts routed in one call.
const maxBatch = 64

type routeReq struct {
	text  string
	reply chan routeRes
}

type routeRes struct {
	probs []float64
	err   error
}

// batcher routes the texts of concurrent requests together, from one
// goroutine: a model need not be safe for concurrent use, and a GoMLX
// graph runs a batch of 64 in about the time of one.
type batcher struct {
	r    Router
	reqs chan routeReq
	done chan struct{}
}

func newBatcher(r Router) *batcher {
	b := &batcher{r: r, reqs: make(chan routeReq), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *batcher) loop() {
	var batch []routeReq
	texts := make([]string, 0, maxBatch)
	for {
		var first routeReq
		select {
		case first = <-b.reqs:
		case <-b.done:
			return
		}
		batch = append(batch[:0], first)
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		texts = texts[:0]
		for _, r := range batch {
			texts = append(texts, r.text)
		}
		probs, err := b.r.Probabilities(texts)
		if err == nil && len(probs) != len(texts) {
			err = errors.New("router returned a wrong number of answers")
		}
		for i, r := range batch {
			res := routeRes{err: err}
			if err == nil {
				res.probs = probs[i]
			}
			r.reply <- res // buffered: never blocks
		}
	}
}

// route gives text's probabilities over the router's LLMs.
func (b *batcher) route(ctx context.Context, text string) ([]float64, error) {
	req := routeReq{text: text, reply: make(chan routeRes, 1)}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.done:
		return nil, errors.New("gateway closed")
	}
	res := <-req.reply
	return res.probs, res.err
}

func (b *batcher) close() { close(b.done) }
