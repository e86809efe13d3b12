package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/comune-rc/sportello/crmsync/peer"
)

// runCzRM is `sportello czrm`: the reference CzRM case store.
func runCzRM(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sportello czrm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on (HOST:PORT)")
	data := fs.String("data", "./data-czrm", "data directory (created if missing)")
	demo := fs.Bool("demo", false, "accept client sportello/demo, agents agent/demo and svu/demo, fault admin secret demo")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sportello czrm: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		fmt.Fprintf(stderr, "sportello czrm: --addr %q: %v\n", *addr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	err := peer.Run(ctx, *addr, peer.Config{Data: *data, Demo: *demo, Logger: log}, func(url string) {
		fmt.Fprintf(stdout, "CzRM reference peer listening on %s\n", url)
		fmt.Fprintf(stdout, "  staff views: %s/czrm/login\n", url)
	})
	if err != nil {
		fmt.Fprintln(stderr, "sportello czrm:", err)
		return 1
	}
	return 0
}

// startDemoCzRM runs the reference peer inside the demo process and
// returns its URL once it listens.
func startDemoCzRM(ctx context.Context, data string, log *slog.Logger) (string, <-chan error, error) {
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- peer.Run(ctx, "127.0.0.1:0", peer.Config{Data: data, Demo: true, Logger: log.With("component", "czrm")}, func(url string) { ready <- url })
	}()
	select {
	case url := <-ready:
		return url, done, nil
	case err := <-done:
		return "", nil, fmt.Errorf("czrm peer: %w", err)
	}
}
