package sim

import (
	"context"
	"flag"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// benchDays shortens BenchmarkS2FullRun for profiling (issue 7 asks for
// the file's 200 days).
var benchDays = flag.Int("sim.days", 200, "days of S2 that BenchmarkS2FullRun simulates")

// benchOut, when set, receives the last run's report and plots, as
// `sportello sim --out` writes them, so that the timed run can also be
// compared with bench/results.
var benchOut = flag.String("sim.out", "", "directory for BenchmarkS2FullRun's report (default: none)")

// BenchmarkS2FullRun is issue 7's speed requirement: 200 days of S2 for
// every policy, on GOMAXPROCS workers, in under 2 minutes on 2 cores. It
// reports the wall time, the process CPU time (user + system) and that
// CPU time ÷ GOMAXPROCS, the wall time on otherwise idle cores.
//
//	go test ./sim/ -run '^$' -bench S2FullRun -benchtime 1x
func BenchmarkS2FullRun(b *testing.B) {
	if testing.Short() {
		b.Skip("a full simulated run; not under -short")
	}
	sc := loadPublic(b, "S2-busy")
	defer tuneGC()() // as sportello sim runs
	cpu0 := cpuTime()
	b.ResetTimer()
	var res *Result
	for range b.N {
		var err error
		if res, err = sc.Run(context.Background(), Options{Days: *benchDays}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if *benchOut != "" {
		if _, err := res.WriteFiles(*benchOut); err != nil {
			b.Fatal(err)
		}
		if err := writePlots(res, *benchOut); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N)
	cpu := (cpuTime() - cpu0).Seconds() / n
	b.ReportMetric(b.Elapsed().Seconds()/n, "wall-s/run")
	b.ReportMetric(cpu, "cpu-s/run")
	// What the wall time would be with the cores to itself: the machine
	// is shared, and other processes stretch the wall time, not the CPU.
	b.ReportMetric(cpu/float64(runtime.GOMAXPROCS(0)), "idle-wall-s/run")
}

// cpuTime is the user + system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
