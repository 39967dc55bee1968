//go:build !linux

package ann

func adviseHugePages[T any](s []T) {}

var hugePages = false
