package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/hub/boltstore"
)

const crmsyncUsage = `usage: sportello crmsync COMMAND --data DIR [ARG]

On a stopped hub's store (a running hub has the same through
GET/POST /api/v1/admin/crmsync…):
  status            backlog, oldest pending, last error, dead letters
  pending           the visits and reports waiting to reach the CzRM
  dead              the dead letters
  replay SEQ        put dead letter SEQ back in the queue
  discard SEQ       drop dead letter SEQ (its visit's later changes go on)
  reset-cursor N    read the outbox again from record N (re-delivery is
                    harmless: upserts are keyed)
`

// runCrmsync is `sportello crmsync`: inspect and repair the CzRM sync of a
// stopped hub.
func runCrmsync(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, crmsyncUsage)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet("sportello crmsync "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory of the hub")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var n uint64
	needsArg := cmd == "replay" || cmd == "discard" || cmd == "reset-cursor"
	switch {
	case needsArg && fs.NArg() != 1:
		fmt.Fprintf(stderr, "sportello crmsync %s: give one number\n", cmd)
		return 2
	case needsArg:
		v, err := strconv.ParseUint(fs.Arg(0), 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "sportello crmsync %s: %q is not a number\n", cmd, fs.Arg(0))
			return 2
		}
		n = v
	case fs.NArg() != 0:
		fmt.Fprintf(stderr, "sportello crmsync %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	switch cmd {
	case "status", "pending", "dead", "replay", "discard", "reset-cursor":
	default:
		fmt.Fprintf(stderr, "sportello crmsync: unknown command %q\n\n%s", cmd, crmsyncUsage)
		return 2
	}
	path := filepath.Join(*data, "sportello.db")
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(stderr, "sportello crmsync: no store in %s: %v\n", *data, err)
		return 1
	}
	st, err := boltstore.Open(path, boltstore.Options{Timeout: time.Second})
	if err != nil {
		fmt.Fprintln(stderr, "sportello crmsync:", err)
		return 1
	}
	defer st.Close()
	var out any
	switch cmd {
	case "status":
		out, err = crmsync.ReadStatus(st)
	case "pending":
		var list []crmsync.Pending
		list, err = crmsync.ListPending(st)
		if list == nil {
			list = []crmsync.Pending{}
		}
		out = list
	case "dead":
		var list []crmsync.DeadLetter
		list, err = crmsync.ListDead(st)
		if list == nil {
			list = []crmsync.DeadLetter{}
		}
		out = list
	case "replay":
		out, err = crmsync.ReplayDead(st, n)
	case "discard":
		out, err = crmsync.DiscardDead(st, n)
	case "reset-cursor":
		err = crmsync.ResetCursor(st, n)
		out = map[string]uint64{"cursor": n}
	}
	if err != nil {
		fmt.Fprintf(stderr, "sportello crmsync %s: %v\n", cmd, err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	return 0
}
