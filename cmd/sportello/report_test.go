package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/stretchr/testify/require"
)

// TestReportCommand writes the monthly PDF of a stopped hub's store with
// a served and rated visit, and refuses bad flags with a message.
func TestReportCommand(t *testing.T) {
	data := t.TempDir()
	st, err := boltstore.Open(filepath.Join(data, "sportello.db"), boltstore.Options{NoSync: true})
	require.NoError(t, err)
	loc, _ := time.LoadLocation("Europe/Rome")
	now := time.Date(2026, 11, 3, 9, 0, 0, 0, loc)
	eng, err := hub.New(hub.Config{Site: hub.BuiltinSite(), Store: st, Clock: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := context.Background()
	tk, _, err := eng.Issue(ctx, hub.IssueRequest{Service: "certificati", By: "totem-1"})
	require.NoError(t, err)
	_, err = eng.OpenCounter(ctx, "1", "clerk01")
	require.NoError(t, err)
	_, err = eng.CallTicket(ctx, "1", "clerk01", tk.ID)
	require.NoError(t, err)
	_, err = eng.Finish(ctx, "1", "clerk01", hub.FinishRequest{})
	require.NoError(t, err)
	_, err = eng.Rate(ctx, hub.RateRequest{TicketID: tk.ID, Score: 5})
	require.NoError(t, err)
	eng.Close()
	require.NoError(t, st.Close())

	out := filepath.Join(t.TempDir(), "novembre.pdf")
	csv := filepath.Join(t.TempDir(), "novembre.csv")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"report", "--data", data, "--month", "2026-11", "--out", out, "--csv", csv}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "(1 visits)")
	pdf, err := os.ReadFile(out)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	c, err := os.ReadFile(csv)
	require.NoError(t, err)
	require.Contains(t, string(c), "\nservice,certificati,Certificati anagrafici,1,1,")
	require.NotContains(t, string(c), "clerk01", "the management's export names no clerk")
	if path, err := exec.LookPath("pdftotext"); err == nil {
		text, err := exec.Command(path, "-layout", out, "-").Output()
		require.NoError(t, err)
		require.Regexp(t, `Visite / Visits\s+1\n`, string(text))
		require.Regexp(t, `Soddisfazione media \(1–5\) / Mean satisfaction\s+5,0\n`, string(text))
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--data", data, "--out", out}, "--month YYYY-MM and --out FILE.pdf are required"},
		{[]string{"report", "--data", data, "--month", "11/2026", "--out", out}, `--month "11/2026": want YYYY-MM`},
		{[]string{"report", "--data", filepath.Join(data, "none"), "--month", "2026-11", "--out", out}, "no store"},
		{[]string{"report", "--data", data, "--month", "2026-11", "--out", out, "extra"}, "unexpected argument"},
	} {
		stderr.Reset()
		require.NotEqual(t, 0, run(tc.args, &stdout, &stderr), strings.Join(tc.args, " "))
		require.Contains(t, stderr.String(), tc.want)
	}
}
