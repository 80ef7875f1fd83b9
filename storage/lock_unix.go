//go:build unix

package storage

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive flock(2) on the folder dir and returns its
// release. The kernel drops the lock when the process dies, so a killed
// writer never leaves the folder locked.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
