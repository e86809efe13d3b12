// Command sportello is the one binary of Sportello: the hub, the demo
// office, the totem agent, the reference CzRM, the simulator and the
// operator tools. main only dispatches; each subcommand wires packages.
package main

import (
	"context"

	"fmt"
	"github.com/comune-rc/sportello/sim"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `sportello — queue and kiosk system of the Sportello Unico per il Cittadino

usage:
  sportello serve   --addr HOST:PORT --data DIR [--site FILE] [--demo]
  sportello demo    [--addr HOST:PORT] [--data DIR]
  sportello totem   --hub URL --id ID --token TOKEN --printer SPEC [--profile NAME]
  sportello ticket-preview [--out FILE.png] [--profile NAME] [--number A023] [--lang it|en]
  sportello czrm    --addr HOST:PORT --data DIR [--demo]
  sportello crmsync status|pending|dead|replay SEQ|discard SEQ|reset-cursor N --data DIR
  sportello sim     --scenario FILE [--days N] [--policy NAME,...] [--out DIR]
  sportello sim     --replay DATA_DIR --date YYYY-MM-DD [--site FILE] [--policy NAME,...] [--out DIR]
  sportello backup  --data DIR --out FILE
  sportello report  --data DIR --month YYYY-MM --out FILE.pdf [--site FILE] [--csv FILE]
  sportello version

Run "sportello COMMAND -h" for the flags of a command.
`

// run is main without the process: tests call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr, false)
	case "demo":
		return runServe(ctx, rest, stdout, stderr, true)
	case "backup":
		return runBackup(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "sportello", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "totem":
		return runTotem(ctx, rest, stdout, stderr)
	case "ticket-preview":
		return runTicketPreview(ctx, rest, stdout, stderr)
	case "sim":
		return sim.Main(ctx, rest, stdout, stderr)
	case "czrm":
		return runCzRM(ctx, rest, stdout, stderr)
	case "crmsync":
		return runCrmsync(ctx, rest, stdout, stderr)
	case "report":
		return runReport(ctx, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "sportello: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
