package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/printer"
)

// runTicketPreview is `sportello ticket-preview`: a sample ticket laid out
// for a printer profile and rendered to PNG (or written as raw ESC/POS),
// so an installer sees what the totem will print before touching paper.
func runTicketPreview(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sportello ticket-preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "ticket.png", "output file: .png for an image, anything else for raw ESC/POS bytes")
	profile := fs.String("profile", "generic-80mm", "printer profile ("+strings.Join(printer.ProfileNames(), ", ")+")")
	number := fs.String("number", "A023", "ticket number")
	service := fs.String("service", "certificati", "service id of the built-in site")
	lang := fs.String("lang", "it", "language first on the ticket: it or en")
	url := fs.String("url", "http://127.0.0.1:8080/t/esempio", "tracking link in the QR code")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	prof, err := printer.LookupProfile(*profile)
	if err != nil {
		fmt.Fprintln(stderr, "sportello ticket-preview: --profile:", err)
		return 2
	}
	site := hub.BuiltinSite()
	sv, ok := site.Service(*service)
	if !ok {
		fmt.Fprintf(stderr, "sportello ticket-preview: --service %q: no such service\n", *service)
		return 2
	}
	if *lang != "it" && *lang != "en" {
		fmt.Fprintf(stderr, "sportello ticket-preview: --lang %q: want it or en\n", *lang)
		return 2
	}
	job := printer.Layout(printer.Ticket{Comune: site.Comune, Office: site.Name.IT, Number: *number, Service: sv.Name.IT, ServiceEN: sv.Name.EN,
		IssuedAt: time.Now().In(site.Location()), Position: 4, EWTMin: 12, TrackURL: *url, Lang: *lang}, prof)
	data := job
	if strings.HasSuffix(strings.ToLower(*out), ".png") {
		data, err = printer.RenderPNG(job, prof.DotsWidth)
		if err != nil {
			fmt.Fprintln(stderr, "sportello ticket-preview:", err)
			return 1
		}
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(stderr, "sportello ticket-preview:", err)
		return 1
	}
	fmt.Fprintf(stdout, "ticket preview written to %s (%d bytes)\n", *out, len(data))
	return 0
}
