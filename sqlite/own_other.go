//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sqlite

// Own takes nothing on systems without flock: serve one data directory with one process.
func Own(dir string) (release func() error, err error) { return func() error { return nil }, nil }
