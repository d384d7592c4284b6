package main

import (
	"errors"
	"io"
)

// routePipelined routes the non-blank lines of in, in batches of size
// (routeLines), through three stages that run at once, each on its own
// batch: reading and encoding, scoring, writing. While the encoder (itself
// parallel) works on one batch, the router scores the batch before and
// the answers to the one before that are written: the stages that run on
// one core overlap with the others. Batches are written in input order.
// It returns the first error, after writing every batch read before it;
// an error of encode or score stops the reading.
func routePipelined(in io.Reader, size int,
	encode func([]string) ([][]float32, error),
	score func([][]float32) ([][]float64, error),
	write func([]string, [][]float64) error) error {
	type batch struct {
		queries []string
		x       [][]float32
		scores  [][]float64
		err     error
	}
	stop := make(chan struct{})
	defer close(stop) // on return, the stages still running give up
	errStopped := errors.New("stopped")

	// Buffers of one: a stage may finish its next batch while the one
	// after it is busy.
	encoded := make(chan batch, 1)
	go func() {
		defer close(encoded)
		send := func(b batch) bool {
			select {
			case encoded <- b:
				return true
			case <-stop:
				return false
			}
		}
		err := routeLines(in, size, func(q []string) error {
			x, err := encode(q)
			if err != nil {
				return err
			}
			if !send(batch{queries: q, x: x}) {
				return errStopped
			}
			return nil
		})
		if err != nil && err != errStopped {
			send(batch{err: err})
		}
	}()

	scored := make(chan batch, 1)
	go func() {
		defer close(scored)
		for b := range encoded {
			if b.err == nil {
				b.scores, b.err = score(b.x)
				b.x = nil
			}
			select {
			case scored <- b:
			case <-stop:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()

	for b := range scored {
		if b.err != nil {
			return b.err
		}
		if err := write(b.queries, b.scores); err != nil {
			return err
		}
	}
	return nil
}
