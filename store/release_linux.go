package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// release tells the kernel this process no longer needs the pages of the
// database it has mapped (madvise MADV_DONTNEED over bbolt's read-only
// shared map). They stay in the page cache; the next read of one maps it
// again from there. Without this, a report that reads a month of a large
// store keeps every page it touched counted in the bot's resident memory
// (about 45 MB for 42,000 tickets) until the kernel needs the memory.
//
// It runs inside a transaction, where the map cannot move: bbolt remaps
// the file only while committing a write transaction, under a lock that
// waits for every read transaction, so neither a reader nor the writer
// (before its commit) sees the map change, and the transaction's size
// (the committed high-water mark) lies within it. The map is PROT_READ and
// MAP_SHARED (bbolt writes through the file), so dropping pages loses
// nothing.
func release(b *bolt.Tx) {
	data, size := b.DB().Info().Data, b.Size()
	if data == 0 || size <= 0 {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, data, uintptr(size), syscall.MADV_DONTNEED)
}
