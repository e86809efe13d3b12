package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/comune-rc/sportello/hub/boltstore"
)

// runBackup writes a consistent copy of the store. A running hub holds the
// file lock, so the copy is asked of it over its local socket; a stopped
// hub's file is opened directly.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sportello backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory of the hub")
	out := fs.String("out", "", "file to write the copy to")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "sportello backup: --out is required")
		return 2
	}
	dbPath := filepath.Join(*data, "sportello.db")
	if _, err := os.Stat(dbPath); err != nil {
		fmt.Fprintf(stderr, "sportello backup: no store in %s: %v\n", *data, err)
		return 1
	}
	n, err := backup(ctx, *data, dbPath, *out)
	if err != nil {
		fmt.Fprintln(stderr, "sportello backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes)\n", dbPath, *out, n)
	return 0
}

func backup(ctx context.Context, data, dbPath, out string) (int64, error) {
	tmp := out + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	n, err := backupTo(ctx, data, dbPath, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, out)
}

func backupTo(ctx context.Context, data, dbPath string, w io.Writer) (int64, error) {
	sock := filepath.Join(data, "hub.sock")
	if _, err := os.Stat(sock); err == nil {
		client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}, Timeout: 10 * time.Minute}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://hub/backup", nil)
		resp, err := client.Do(req)
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return 0, fmt.Errorf("running hub answered %s", resp.Status)
			}
			return io.Copy(w, resp.Body)
		}
		// A socket left by a hub killed with -9: fall through to the file.
	}
	st, err := boltstore.Open(dbPath, boltstore.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.WriteBackup(w)
}
