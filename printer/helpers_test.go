package printer

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// needTool returns the path of an external program a test needs. Without
// it the test is skipped on a developer's machine, but fails under CI
// (CI set), where `make deps` must have installed it.
func needTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found: install the Debian package %s (make deps)", name, debianPackage)
	}
	t.Skipf("%s not found: install the Debian package %s to run this test (it fails under CI)", name, debianPackage)
	return ""
}

// referenceTicket is the ticket of the golden files. Its zone is fixed, so
// the test needs no tzdata.
func referenceTicket() Ticket {
	rome := time.FixedZone("CET", 3600)
	return Ticket{
		Comune:    "Comune di Reggio Calabria",
		Office:    "CEDIR – Sala Piramide",
		Number:    "A023",
		Service:   "Anagrafe e stato civile",
		ServiceEN: "Registry office",
		IssuedAt:  time.Date(2026, 3, 2, 9, 41, 0, 0, rome),
		Position:  3,
		EWTMin:    12,
		TrackURL:  "https://sportello.comune.reggio-calabria.it/t/k3Jx9QmZ2wP7",
		Lang:      "it",
	}
}

func mustProfile(t testing.TB, name string) Profile {
	t.Helper()
	p, err := LookupProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./printer/ -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: %d bytes, want %d; first difference at byte %d:\n got % X\nwant % X",
			name, len(got), len(want), i, window(got, i), window(want, i))
	}
}

func window(b []byte, i int) []byte {
	lo, hi := max(0, i-8), min(len(b), i+16)
	if lo > hi {
		return nil
	}
	return b[lo:hi]
}

// zbar decodes the QR code(s) in an image file.
func zbar(t *testing.T, path string) string {
	t.Helper()
	zbarimg := needTool(t, "zbarimg", "zbar-tools")
	out, err := exec.Command(zbarimg, "-q", "--raw", path).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v (no QR code found?)", path, err)
	}
	return strings.TrimRight(string(out), "\n")
}

// queries is what the transports send around a job when the printer is
// idle: DLE EOT 1, 2 and 4.
var idleQueries = []byte{dle, eot, 1, dle, eot, 2, dle, eot, 4}

func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
