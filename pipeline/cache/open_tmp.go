package cache

import "errors"

// TEMPORARY until the integrity branch lands.
var ErrChanged = errors.New("cache entry changed")

func (s *Store) Open(stage, key string) (string, error) { return s.Path(stage, key), nil }
