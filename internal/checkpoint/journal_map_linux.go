package checkpoint

import (
	"os"
	"syscall"
)

// mapSegment reserves size bytes of disk for f and maps them, or answers
// nil (f then written line by line) when either cannot be done. The
// reservation matters: a mapped page the file system has no block for
// would fault (SIGBUS) when written on a full disk instead of failing a
// write the caller can answer.
func mapSegment(f *os.File, size int) []byte {
	fd := int(f.Fd())
	if err := syscall.Fallocate(fd, 0, 0, int64(size)); err != nil {
		return nil
	}
	m, err := syscall.Mmap(fd, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Truncate(0)
		return nil
	}
	return m
}

func unmapSegment(m []byte) error { return syscall.Munmap(m) }
