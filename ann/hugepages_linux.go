package ann

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePages turns the advice off, for benchmarks that measure its effect.
var hugePages = true

// adviseHugePages asks the kernel to back a large array with transparent
// huge pages. A search touches a few thousand vectors scattered over
// gigabytes; with 4 KiB pages nearly every one costs a TLB miss and a page
// walk, with 2 MiB pages the whole array fits the TLB. It is advice: where
// THP is off (or the memory already faulted in) nothing changes.
func adviseHugePages[T any](s []T) {
	if cap(s) == 0 || !hugePages {
		return
	}
	var zero T
	size := uintptr(cap(s)) * unsafe.Sizeof(zero)
	if size < 4<<20 {
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(s))
	start := uintptr(base)
	const page = 4096
	first := (start + page - 1) &^ (page - 1)
	end := (start + size) &^ (page - 1)
	if end <= first {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(base, first-start)), end-first)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}
