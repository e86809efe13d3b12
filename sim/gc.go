package sim

import (
	"os"
	"runtime/debug"
)

// simGCPercent is the garbage collector's target for a simulation run.
// The engine allocates a new queue view after every commit, a few
// thousand per simulated day, while the live heap stays small (one day's
// tickets per worker): at Go's default of 100 the collector took a
// quarter of the run. At 400 the heap may grow to five times the live
// data (about 140 MB on S2 with two workers) and collecting costs a
// small fraction of that.
const simGCPercent = 400

// tuneGC sets simGCPercent for the run unless GOGC says otherwise, and
// returns the function that restores the previous setting.
func tuneGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(simGCPercent)
	return func() { debug.SetGCPercent(old) }
}
