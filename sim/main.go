package sim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Main is `sportello sim`:
//
//	sportello sim --scenario FILE [--days N] [--policy NAME,...] [--out DIR]
//	              [--seed S] [--dump-visitors DAY] [--conformance DAY]
//	              [--workers N] [--quiet]
//	sportello sim --replay DATA_DIR --date YYYY-MM-DD [--site FILE]
//	              [--policy NAME,...] [--out DIR] [--quiet]
//	sportello sim --scenario FILE --advise [--target-sl F] [--target-wait D]
//	              [--rounds N] [--min-tickets N] [--days N] [--policy NAME] [--out DIR]
//	sportello sim --doc FILE --out DIR [--sections NAME,...]
//
// It returns the process exit code: 0 on success, 2 for bad flags or an
// invalid scenario, 1 when the run fails.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sportello sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "", "scenario file (YAML or JSON, README §3) `FILE`")
	days := fs.Int("days", 0, "number of days to simulate (default: the file's days)")
	seed := fs.Int64("seed", -1, "override the file's seed (quick checks only; reported numbers use the file's seed)")
	policies := fs.String("policy", strings.Join(DefaultPolicies, ","), "comma-separated policies: "+strings.Join(PolicyIDs, ", "))
	out := fs.String("out", "", "directory for <name>.md, .csv and .json (default: markdown on stdout only)")
	dump := fs.Int("dump-visitors", -1, "print the visitors of day `DAY` as CSV (README §4.7) and exit")
	conf := fs.Int("conformance", -1, "print the outcome checksums of day `DAY` (README §13.4) and exit")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	workers := fs.Int("workers", 0, "parallel workers (default: GOMAXPROCS)")
	replay := fs.String("replay", "", "replay a real day from the hub store in `DATA_DIR` (or a store file), see docs/replay.md")
	date := fs.String("date", "", "the day to replay, `YYYY-MM-DD` in the site's time zone")
	siteFile := fs.String("site", "", "with --replay: the site file the hub runs (default: the built-in CEDIR site)")
	adv := addAdviseFlags(fs)
	doc := fs.String("doc", "", "regenerate the marked sections of `FILE` (BENCHMARKS.md) from the reports in --out DIR and exit")
	sections := fs.String("sections", "", "with --doc: the sections that must be marked in the file, comma-separated (default: every marked one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sportello sim --scenario FILE [--days N] [--policy NAME,...] [--out DIR]")
		fmt.Fprintln(stderr, "       sportello sim --replay DATA_DIR --date YYYY-MM-DD [--site FILE] [--policy NAME,...] [--out DIR]")
		fmt.Fprintln(stderr, "       sportello sim --scenario FILE --advise [--target-sl 0.8] [--target-wait 15m] [--days N] [--out DIR]")
		fmt.Fprintln(stderr, "       sportello sim --doc FILE --out DIR [--sections NAME,...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sportello sim: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	if *doc != "" {
		if *out == "" {
			return bad("--doc FILE needs --out DIR, the directory of the reports")
		}
		var want []string
		for _, n := range strings.Split(*sections, ",") {
			if n = strings.TrimSpace(n); n != "" {
				want = append(want, n)
			}
		}
		changed, err := UpdateDoc(*doc, *out, want)
		if err != nil {
			fmt.Fprintf(stderr, "sportello sim: %v\n", err)
			return 1
		}
		if changed {
			fmt.Fprintf(stderr, "updated %s from %s\n", *doc, *out)
		} else {
			fmt.Fprintf(stderr, "%s is up to date with %s\n", *doc, *out)
		}
		return 0
	}
	if *scenario != "" && (*replay != "" || *date != "") {
		return bad("--replay and --scenario exclude each other: replay a real day or simulate a scenario")
	}
	if *scenario == "" && *replay == "" && *date == "" {
		return bad("--scenario FILE is required (or --replay DATA_DIR --date YYYY-MM-DD)")
	}
	if *siteFile != "" && *replay == "" {
		return bad("--site applies only to --replay")
	}
	if *days < 0 {
		return bad("--days must be ≥ 1, got %d", *days)
	}
	if *workers < 0 {
		return bad("--workers must be ≥ 0, got %d", *workers)
	}
	if err := adv.check(fs); err != nil {
		return bad("%v", err)
	}
	if *adv.on && (*replay != "" || *date != "") {
		return bad("--advise takes a forecast day from --scenario, not a replayed one")
	}
	var pols []string
	seen := map[string]bool{}
	for _, p := range strings.Split(*policies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !knownPolicy(p) {
			return bad("--policy: unknown policy %q (known: %s)", p, strings.Join(PolicyIDs, ", "))
		}
		if !seen[p] {
			seen[p] = true
			pols = append(pols, p)
		}
	}
	if len(pols) == 0 {
		return bad("--policy: no policy given")
	}
	if *replay != "" || *date != "" {
		return replayMain(ctx, fs, *replay, *date, *siteFile, pols, *out, *quiet, stdout, stderr)
	}
	sc, err := LoadScenario(*scenario)
	if err != nil {
		return bad("%v", err)
	}
	if *seed >= 0 {
		sc.Seed = uint64(*seed)
	} else if *seed != -1 {
		return bad("--seed must be in 0 … 2^63−1, got %d", *seed)
	}
	if *adv.on {
		return adv.main(ctx, fs, sc, pols, *days, *workers, *out, *quiet, stdout, stderr)
	}
	if *dump >= 0 {
		if err := sc.DumpVisitors(stdout, *dump); err != nil {
			fmt.Fprintf(stderr, "sportello sim: %v\n", err)
			return 1
		}
		return 0
	}
	if *conf >= 0 {
		if err := sc.Conformance(ctx, stdout, *conf, pols); err != nil {
			fmt.Fprintf(stderr, "sportello sim: %v\n", err)
			return 1
		}
		return 0
	}
	defer tuneGC()()
	opt := Options{Days: *days, Policies: pols, Workers: *workers}
	if !*quiet {
		opt.Progress = stderr
	}
	res, err := sc.Run(ctx, opt)
	if err != nil {
		fmt.Fprintf(stderr, "sportello sim: %v\n", err)
		return 1
	}
	return emit(res, *out, func(dir string) error {
		if err := writePlots(res, dir); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		return nil
	}, stdout, stderr)
}
