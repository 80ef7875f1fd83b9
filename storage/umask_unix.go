//go:build unix

package storage

import "syscall"

// processUmask is the process's file mode creation mask. Reading it means
// setting it, so it is read once at start-up, before any file is created.
var processUmask = readUmask()

func readUmask() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}
