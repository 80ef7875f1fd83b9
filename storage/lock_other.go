//go:build !unix

package storage

import "sync"

// dirLocks serialise PutIfMatch within this process only: without flock(2),
// Local's compare-and-swap is not safe between processes on this platform.
var dirLocks sync.Map // dir → *sync.Mutex

func lockDir(dir string) (unlock func(), err error) {
	mu, _ := dirLocks.LoadOrStore(dir, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock, nil
}
