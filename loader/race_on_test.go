//go:build race

package loader_test

// raceEnabled: the race detector multiplies memory several times, so the
// peak-memory bounds are not measured under it.
const raceEnabled = true
