package printer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Printer is one ticket printer as the totem agent drives it.
type Printer interface {
	// Print sends one job (from Layout) and returns nil only when the printer
	// took it: a printer that is offline, out of paper or not answering gets
	// an error, so the agent reports the ticket as not printed.
	Print(ctx context.Context, job []byte) error
	// Status asks the printer how it is. A printer that does not answer is
	// StateOffline with an error saying so.
	Status(ctx context.Context) (State, error)
	Close() error
}

// ErrOffline is wrapped by every error that means "the printer did not
// answer or did not take the data in time".
var ErrOffline = errors.New("printer offline")

// ErrStatusUnsupported is returned (with StateOK) by Status when the device
// cannot report its status, e.g. a usblp printer bound unidirectionally.
var ErrStatusUnsupported = errors.New("printer cannot report its status")

// NotReadyError is the error of a Print refused or failed because of the
// printer's state.
type NotReadyError struct {
	State State
	// After is true when the state was read after the job was sent: the
	// ticket may be partly printed.
	After bool
}

func (e *NotReadyError) Error() string {
	if e.After {
		return fmt.Sprintf("printer: %s after printing: the ticket may be incomplete", e.State)
	}
	return fmt.Sprintf("printer: %s: ticket not printed", e.State)
}

// Is makes errors.Is(err, ErrOffline) true for an offline state.
func (e *NotReadyError) Is(target error) bool {
	return target == ErrOffline && e.State == StateOffline
}

// SpecError is a printer SPEC that Open refuses.
type SpecError struct {
	Spec    string
	Problem string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("printer spec %q: %s", e.Spec, e.Problem)
}

// schemes are the printer SPEC schemes Open knows, as the contract lists them.
var schemes = []string{"serial", "usblp", "tcp", "file", "png"}

// Open returns the printer that spec names:
//
//	serial:/dev/ttyUSB0?baud=9600   RS-232 or USB-serial (baud defaults to 9600)
//	usblp:/dev/usb/lp0              USB printer class device
//	tcp:HOST:9100                   network printer, raw port
//	file:PATH                       raw ESC/POS bytes appended to PATH
//	png:DIR[?width=576]             each job rendered to a PNG in DIR
//
// serial, usblp and tcp also take status=off, for printers that never
// answer DLE EOT (Profile.Status false): Print then sends jobs unchecked and
// Status returns StateOK with ErrStatusUnsupported.
//
// Devices are opened on first use, and reopened after an error, so a printer
// unplugged at start or later comes back by itself; file and png are opened
// (or created) now, since a wrong path there is a configuration mistake.
func Open(spec string) (Printer, error) {
	bad := func(format string, a ...any) error {
		return &SpecError{Spec: spec, Problem: fmt.Sprintf(format, a...)}
	}
	scheme, rest, ok := strings.Cut(spec, ":")
	if !ok || scheme == "" {
		return nil, bad("missing scheme: want one of %s, as in serial:/dev/ttyUSB0?baud=9600", strings.Join(schemes, ", "))
	}
	path, rawQuery, _ := strings.Cut(rest, "?")
	if scheme == "file" {
		path, rawQuery = rest, ""
	}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, bad("bad options %q: %v", rawQuery, err)
	}
	allow := func(keys ...string) error {
		for _, k := range slices.Sorted(maps.Keys(query)) {
			if !slices.Contains(keys, k) {
				if len(keys) == 0 {
					return bad("unknown option %q: %s takes no options", k, scheme)
				}
				return bad("unknown option %q: %s takes %s", k, scheme, strings.Join(keys, ", "))
			}
		}
		return nil
	}
	// status=off is for printers that never answer DLE EOT (Profile.Status
	// false): jobs are then sent unchecked.
	checkStatus := func() (bool, error) {
		if !query.Has("status") {
			return true, nil
		}
		switch v := query.Get("status"); v {
		case "on":
			return true, nil
		case "off":
			return false, nil
		default:
			return false, bad("bad status %q: want on or off", v)
		}
	}
	needPath := func(what string) error {
		if path == "" {
			return bad("missing %s after %q", what, scheme+":")
		}
		return nil
	}

	switch scheme {
	case "serial":
		if err := needPath("device path"); err != nil {
			return nil, err
		}
		if err := allow("baud", "status"); err != nil {
			return nil, err
		}
		st, err := checkStatus()
		if err != nil {
			return nil, err
		}
		baud := 9600
		if query.Has("baud") {
			v := query.Get("baud")
			b, err := strconv.Atoi(v)
			if err != nil || !slices.Contains(baudRates, b) {
				return nil, bad("bad baud %q: want one of %s", v, joinInts(baudRates))
			}
			baud = b
		}
		return newSerialPrinter(path, baud, st), nil
	case "usblp":
		if err := needPath("device path"); err != nil {
			return nil, err
		}
		if err := allow("status"); err != nil {
			return nil, err
		}
		st, err := checkStatus()
		if err != nil {
			return nil, err
		}
		return newUSBLPPrinter(path, st), nil
	case "tcp":
		if err := allow("status"); err != nil {
			return nil, err
		}
		st, err := checkStatus()
		if err != nil {
			return nil, err
		}
		host, port, err := net.SplitHostPort(path)
		if err != nil || host == "" {
			return nil, bad("bad host:port %q: want HOST:PORT, as in tcp:192.0.2.10:9100", path)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, bad("bad host:port %q: port %q is not a number from 1 to 65535", path, port)
		}
		return newTCPPrinter(path, st), nil
	case "file":
		// The whole rest is the path: a file name may hold a '?'.
		if err := needPath("file path"); err != nil {
			return nil, err
		}
		p, err := openFilePrinter(path)
		if err != nil {
			return nil, err
		}
		return p, nil
	case "png":
		if err := needPath("directory"); err != nil {
			return nil, err
		}
		if err := allow("width"); err != nil {
			return nil, err
		}
		width := 576
		if query.Has("width") {
			v := query.Get("width")
			w, err := strconv.Atoi(v)
			if err != nil || w < 8 || w > maxRenderWidth || w%8 != 0 {
				return nil, bad("bad width %q: want a multiple of 8 from 8 to %d dots, as 576, 512 or 384", v, maxRenderWidth)
			}
			width = w
		}
		p, err := openPNGPrinter(path, width)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return nil, bad("unknown scheme %q: want one of %s", scheme, strings.Join(schemes, ", "))
}

// baudRates are the speeds printers' DIP or memory switches offer.
var baudRates = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
