//go:build !linux

package routerdir

var exchange = func(a, b string) error { return errNoExchange }
