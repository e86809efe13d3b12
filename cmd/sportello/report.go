package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/comune-rc/sportello/kpi"
)

// runReport writes the monthly service-level and satisfaction report of a
// stopped hub's store (the running hub holds the file lock: use its
// /reports pages, which offer the same PDF).
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sportello report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory of the (stopped) hub")
	month := fs.String("month", "", "the month to report, YYYY-MM")
	out := fs.String("out", "", "PDF file to write")
	siteFile := fs.String("site", "", "site file (YAML) the hub runs; default: the built-in CEDIR Sala Piramide site")
	csvOut := fs.String("csv", "", "also write the figures as CSV to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sportello report: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *month == "" || *out == "" {
		fmt.Fprintln(stderr, "sportello report: --month YYYY-MM and --out FILE.pdf are required")
		return 2
	}
	site, err := loadSite(*siteFile)
	if err != nil {
		fmt.Fprintln(stderr, "sportello report:", err)
		return 2
	}
	if _, _, err := kpi.MonthBounds(*month, site.Location()); err != nil {
		fmt.Fprintf(stderr, "sportello report: --month %q: want YYYY-MM\n", *month)
		return 2
	}
	dbPath := filepath.Join(*data, "sportello.db")
	if _, err := os.Stat(dbPath); err != nil {
		fmt.Fprintf(stderr, "sportello report: no store in %s: %v\n", *data, err)
		return 1
	}
	st, err := boltstore.Open(dbPath, boltstore.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "in use") {
			msg += "; stop the hub first, or download the PDF from its /reports page"
		}
		fmt.Fprintln(stderr, "sportello report:", msg)
		return 1
	}
	defer st.Close()
	rep, err := kpi.Month(st, site, *month, time.Now().In(site.Location()))
	if err != nil {
		fmt.Fprintln(stderr, "sportello report:", err)
		return 1
	}
	if err := writeFile(*out, rep.WritePDF); err != nil {
		fmt.Fprintln(stderr, "sportello report:", err)
		return 1
	}
	if *csvOut != "" {
		if err := writeFile(*csvOut, func(w io.Writer) error { return rep.WriteCSV(w, false) }); err != nil {
			fmt.Fprintln(stderr, "sportello report:", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "report of %s written to %s (%d visits)\n", *month, *out, rep.Total.Visits)
	_ = ctx
	return 0
}

// writeFile writes through a temporary file, so that a failed report
// leaves no half file behind.
func writeFile(path string, write func(w io.Writer) error) error {
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
