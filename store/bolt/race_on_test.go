//go:build race

package bolt_test

// raceEnabled: the race detector slows the long single-goroutine tests tenfold, and
// they check nothing it would find; they take a sample then.
const raceEnabled = true
