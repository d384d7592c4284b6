//go:build !linux

package serve

var exchange = func(a, b string) error { return errNoExchange }
