//go:build !linux

package ann

// threadCPU is not measured outside Linux.
func threadCPU() int64 { return 0 }
