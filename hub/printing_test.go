package hub_test

import (
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/require"
)

func TestPrintJobsLifecycle(t *testing.T) {
	e := newEnv(t)
	a, _, err := e.eng.Issue(ctx, hub.IssueRequest{Service: "certificati", By: "totem-1", Print: true})
	require.NoError(t, err)
	require.Equal(t, hub.PrintPending, a.Print)
	e.clock.Advance(time.Second)
	b, _, err := e.eng.Issue(ctx, hub.IssueRequest{Service: "cie", By: "totem-1", Print: true})
	require.NoError(t, err)
	_, _, err = e.eng.Issue(ctx, hub.IssueRequest{Service: "cie", By: "totem-2", Print: true})
	require.NoError(t, err)
	_, _, err = e.eng.Issue(ctx, hub.IssueRequest{Service: "cie", By: "clerk01"})
	require.NoError(t, err)

	jobs := e.eng.PrintJobs("totem-1")
	require.Len(t, jobs, 2)
	require.Equal(t, []string{a.ID, b.ID}, []string{jobs[0].ID, jobs[1].ID}, "oldest first")

	_, err = e.eng.PrintResult(ctx, "totem-2", a.ID, true, "")
	require.Equal(t, "not_your_job", code(err))
	done, err := e.eng.PrintResult(ctx, "totem-1", a.ID, true, "")
	require.NoError(t, err)
	require.Equal(t, hub.PrintDone, done.Print)
	again, err := e.eng.PrintResult(ctx, "totem-1", a.ID, false, "late retry")
	require.NoError(t, err)
	require.Equal(t, hub.PrintDone, again.Print, "a second report changes nothing")
	failed, err := e.eng.PrintResult(ctx, "totem-1", b.ID, false, "paper_out")
	require.NoError(t, err)
	require.Equal(t, hub.PrintFailed, failed.Print)
	require.Equal(t, "paper_out", failed.PrintError)
	require.Empty(t, e.eng.PrintJobs("totem-1"))

	// Jobs survive a restart; a desk can reprint a failed one.
	e.restart()
	require.Len(t, e.eng.PrintJobs("totem-2"), 1)
	re, err := e.eng.Reprint(ctx, b.ID, "clerk03")
	require.NoError(t, err)
	require.Equal(t, hub.PrintPending, re.Print)
	require.Len(t, e.eng.PrintJobs("totem-1"), 1)
	_, err = e.eng.Reprint(ctx, "nope", "clerk03")
	require.Equal(t, "ticket_not_found", code(err))
}

func TestFileReport(t *testing.T) {
	e := newEnv(t)
	r, err := e.eng.FileReport(ctx, hub.ReportRequest{Kind: "segnalazione", Topic: "illuminazione", Description: "Lampione spento in via Marina", Location: "Via Marina 12", By: "totem-1"})
	require.NoError(t, err)
	require.Equal(t, "SP-2026-000001", r.Protocol)
	require.Equal(t, "pending", r.Status)
	r2, err := e.eng.FileReport(ctx, hub.ReportRequest{Kind: "reclamo", Topic: "servizi", Description: "Attesa troppo lunga"})
	require.NoError(t, err)
	require.Equal(t, "SP-2026-000002", r2.Protocol)
	e.restart()
	r3, err := e.eng.FileReport(ctx, hub.ReportRequest{Kind: "reclamo", Topic: "altro", Description: "x"})
	require.NoError(t, err)
	require.Equal(t, "SP-2026-000003", r3.Protocol, "numbers go on after a restart")
	got, err := e.eng.Report(r.Protocol)
	require.NoError(t, err)
	require.Equal(t, "Via Marina 12", got.Location)
	sent, err := e.eng.ReportDelivered(ctx, r.Protocol, "RC-2026-000042")
	require.NoError(t, err)
	require.Equal(t, "sent", sent.Status)
	got, _ = e.eng.Report(r.Protocol)
	require.Equal(t, "RC-2026-000042", got.ServiceRequestID)
	_, err = e.eng.ReportDelivered(ctx, "SP-1999-000001", "X")
	require.Equal(t, "report_not_found", code(err))
	_, recs, err := e.store.Outbox(0, 0)
	require.NoError(t, err)
	require.Len(t, recs, 3, "a delivery report does not go back to the CzRM")
	require.NotNil(t, recs[0].Report)

	seq := e.eng.LastSeq()
	for _, bad := range []hub.ReportRequest{
		{Kind: "lode", Topic: "altro", Description: "x"},
		{Kind: "reclamo", Topic: "ufo", Description: "x"},
		{Kind: "reclamo", Topic: "altro", Description: "  "},
		{Kind: "reclamo", Topic: "altro", Description: "a\x00b"},
		{Kind: "reclamo", Topic: "altro", Description: string(make([]byte, 1001))},
	} {
		_, err := e.eng.FileReport(ctx, bad)
		require.Equal(t, hub.KindInvalid, hub.ErrorKind(err), "%+v", bad)
	}
	require.Equal(t, seq, e.eng.LastSeq())
}
