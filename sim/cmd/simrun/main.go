// Command simrun runs the office-day simulator standalone, until
// `sportello sim` is wired in cmd: go run ./sim/cmd/simrun --scenario FILE …
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/comune-rc/sportello/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(sim.Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
