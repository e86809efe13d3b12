package sim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/comune-rc/sportello/hub"
)

// replayMain is `sportello sim --replay DATA_DIR --date YYYY-MM-DD`: the
// flags of Main are parsed; those of a scenario run do not apply.
func replayMain(ctx context.Context, fs *flag.FlagSet, dataDir, date, siteFile string, pols []string, out string, quiet bool, stdout, stderr io.Writer) int {
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sportello sim: "+format+"\n", a...)
		return 2
	}
	var wrong string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "days", "seed", "dump-visitors", "conformance", "workers":
			if wrong == "" {
				wrong = fl.Name
			}
		}
	})
	if wrong != "" {
		return bad("--%s does not apply to --replay", wrong)
	}
	if dataDir == "" {
		return bad("--date needs --replay DATA_DIR")
	}
	if date == "" {
		return bad("--replay needs --date YYYY-MM-DD")
	}
	src := ReplaySource{DataDir: dataDir, Date: date}
	if siteFile != "" {
		site, err := hub.LoadSite(siteFile)
		if err != nil {
			return bad("--site %s: %v", siteFile, err)
		}
		src.Site, src.SiteName = site, siteFile
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "sportello sim: %v\n", err)
		var re *ReplayError
		if errors.As(err, &re) {
			return 2
		}
		return 1
	}
	day, err := LoadReplayDay(src)
	if err != nil {
		return fail(err)
	}
	var progress io.Writer
	if !quiet {
		progress = stderr
	}
	res, err := day.Replay(ctx, pols, progress)
	if err != nil {
		return fail(err)
	}
	return emit(res, out, nil, stdout, stderr)
}
