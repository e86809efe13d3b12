package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/comune-rc/sportello/kiosk/agent"
	"github.com/comune-rc/sportello/printer"
)

// runTotem is `sportello totem`: the agent on a totem PC.
func runTotem(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sportello totem", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hubURL := fs.String("hub", "", "hub URL, e.g. http://hub.local:8080")
	id := fs.String("id", "", "totem id (totem-1 …)")
	token := fs.String("token", "", "the totem's device token")
	spec := fs.String("printer", "", "printer: serial:/dev/ttyUSB0?baud=9600, usblp:/dev/usb/lp0, tcp:HOST:9100, file:PATH, png:DIR")
	profile := fs.String("profile", "generic-80mm", "printer profile ("+strings.Join(printer.ProfileNames(), ", ")+")")
	state := fs.String("state", "", "file that remembers printed jobs across restarts (optional)")
	logLevel := fs.String("log-level", "info", "log level")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	for name, v := range map[string]string{"--hub": *hubURL, "--id": *id, "--token": *token, "--printer": *spec} {
		if v == "" {
			fmt.Fprintf(stderr, "sportello totem: %s is required\n", name)
			return 2
		}
	}
	prof, err := printer.LookupProfile(*profile)
	if err != nil {
		fmt.Fprintln(stderr, "sportello totem: --profile:", err)
		return 2
	}
	p, err := printer.Open(*spec)
	if err != nil {
		fmt.Fprintln(stderr, "sportello totem: --printer:", err)
		return 2
	}
	defer p.Close()
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(stderr, "sportello totem: --log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	a, err := agent.New(agent.Config{HubURL: *hubURL, TotemID: *id, Token: *token, Printer: p, Profile: prof, StateFile: *state, Version: version, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "sportello totem:", err)
		return 2
	}
	fmt.Fprintf(stdout, "totem %s printing on %s for %s\n", *id, *spec, *hubURL)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "sportello totem:", err)
		return 1
	}
	return 0
}
