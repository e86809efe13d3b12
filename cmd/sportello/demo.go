package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/kiosk/agent"
	"github.com/comune-rc/sportello/printer"
)

// startDemoTotems runs one totem agent per totem of the site inside the
// demo process, each printing to PNG files in DATA/tickets/TOTEM.
func startDemoTotems(ctx context.Context, h *runningHub, data string, stdout io.Writer, log *slog.Logger, wg *sync.WaitGroup) error {
	prof, err := printer.LookupProfile("generic-80mm")
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nVirtual totems (tickets printed as PNG images)")
	for i, t := range h.engine.Site().Totems {
		dir, err := filepath.Abs(filepath.Join(data, "tickets", t.ID))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		p, err := printer.Open("png:" + dir)
		if err != nil {
			return err
		}
		a, err := agent.New(agent.Config{HubURL: h.url, TotemID: t.ID, Token: fmt.Sprintf("demo-totem-%d", i+1), Printer: p, Profile: prof,
			StateFile: filepath.Join(data, "tickets", t.ID+".state.json"), Version: version, Logger: log,
			OnPrinted: func(job string, tk httpapi.JobTicket) {
				log.Info("ticket printed", "component", "demo", "totem", t.ID, "number", tk.Number, "dir", dir)
			}})
		if err != nil {
			p.Close()
			return err
		}
		fmt.Fprintf(stdout, "  %-28s %s\n", t.ID, dir)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.Close()
			_ = a.Run(ctx)
		}()
	}
	return nil
}
