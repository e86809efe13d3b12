package kpi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/comune-rc/sportello/kpi"
	"github.com/stretchr/testify/require"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// simClock is the generator's clock, read by the engine's writer.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *simClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// truth is what the generator did to one visit, kept by the generator
// itself: the test's expectations come from it, not from the events.
type truth struct {
	id, service      string
	issued           time.Time
	firstCall        *time.Time
	served           bool
	serviceTime      time.Duration
	noShow, walkOut  bool
	unserved         bool
	transfers        int
	score            int
	slot             *time.Time
	cancelledAfter   time.Duration
	closedWithoutAny bool
}

// month drives the real engine on a bbolt file through every working day
// of November 2026 at three counters: walk-ins and appointments for
// certificati, cie and informazioni (residenza stays closed all month),
// no-shows, transfers, walk-outs, citizens left at closing and survey
// answers. It returns the store's directory and the truth of every visit.
func month(t *testing.T, seed uint64) (string, []*truth) {
	t.Helper()
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "sportello.db"), boltstore.Options{NoSync: true, Logger: quiet})
	require.NoError(t, err)
	clk := &simClock{now: time.Date(2026, 11, 1, 8, 0, 0, 0, rome)}
	eng, err := hub.New(hub.Config{Site: hub.BuiltinSite(), Store: st, Clock: clk.Now, Logger: quiet})
	require.NoError(t, err)
	defer func() {
		eng.Close()
		st.Close()
	}()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	services := []string{"certificati", "cie", "informazioni"}
	counters := []struct{ id, clerk string }{{"1", "clerk01"}, {"3", "clerk03"}, {"6", "clerk06"}}
	var all []*truth
	for day := 1; day <= 30; day++ {
		d := time.Date(2026, 11, day, 0, 0, 0, 0, rome)
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		at := func(min int) time.Time { return d.Add(8*time.Hour + 30*time.Minute + time.Duration(min)*time.Minute) }
		// Arrivals over the morning, some with an appointment booked the
		// day before.
		type arrival struct {
			min     int
			service string
			slot    *time.Time
		}
		var arrivals []arrival
		for i := 0; i < 30+rng.IntN(10); i++ {
			a := arrival{min: rng.IntN(150), service: services[rng.IntN(len(services))]}
			if rng.IntN(5) == 0 {
				s := at(a.min + rng.IntN(50) - 25)
				a.slot = &s
			}
			arrivals = append(arrivals, a)
		}
		sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].min < arrivals[j].min })
		clk.Set(at(0))
		for _, c := range counters {
			_, err := eng.OpenCounter(ctx, c.id, c.clerk)
			require.NoError(t, err)
		}
		type job struct {
			v      *truth
			until  int
			action string // noshow, transfer, finish
			start  int
		}
		busy := map[string]*job{}
		byID := map[string]*truth{}
		var waiting []*truth
		next := 0
		for m := 0; m <= 240; m++ {
			now := at(m)
			clk.Set(now)
			for next < len(arrivals) && arrivals[next].min == m {
				a := arrivals[next]
				next++
				req := hub.IssueRequest{Service: a.service, By: "totem-1"}
				if a.slot != nil {
					clk.Set(now.Add(-24 * time.Hour))
					ap, err := eng.Book(ctx, hub.BookRequest{Service: a.service, Slot: *a.slot, Channel: hub.ChannelPhone, By: "agent"})
					clk.Set(now)
					require.NoError(t, err)
					req = hub.IssueRequest{Appointment: ap.Code, By: "totem-1"}
				}
				tk, _, err := eng.Issue(ctx, req)
				require.NoError(t, err)
				v := &truth{id: tk.ID, service: a.service, issued: now, slot: a.slot}
				all = append(all, v)
				byID[v.id] = v
				waiting = append(waiting, v)
			}
			// Walk-outs: a few who wait give up, some before their
			// service's target and some after it (the call-next policy
			// keeps long waits rare, so the threshold is low).
			for _, v := range append([]*truth(nil), waiting...) {
				if v.firstCall == nil && !v.walkOut && now.Sub(v.issued) > 8*time.Minute && rng.IntN(40) == 0 {
					_, err := eng.Cancel(ctx, v.id, "citizen")
					require.NoError(t, err)
					v.walkOut, v.cancelledAfter = true, now.Sub(v.issued)
				}
			}
			for _, c := range counters {
				j := busy[c.id]
				if j != nil && j.until == m {
					switch j.action {
					case "noshow":
						_, err := eng.NoShow(ctx, c.id, c.clerk)
						require.NoError(t, err)
						j.v.noShow = true
					case "transfer":
						_, err := eng.Transfer(ctx, c.id, c.clerk, hub.TransferRequest{Service: "cie"})
						require.NoError(t, err)
						j.v.transfers++
					case "finish":
						_, err := eng.Finish(ctx, c.id, c.clerk, hub.FinishRequest{})
						require.NoError(t, err)
						j.v.served = true
						j.v.serviceTime = time.Duration(m-j.start) * time.Minute
						if rng.IntN(3) > 0 {
							// Longer waits, unhappier citizens.
							w := j.v.firstCall.Sub(j.v.issued).Minutes()
							score := 5 - int(w/15) - rng.IntN(2)
							score = max(1, min(5, score))
							ch := []string{hub.RatedOnWeb, hub.RatedAtCounter, hub.RatedAtTotem}[rng.IntN(3)]
							_, err := eng.Rate(ctx, hub.RateRequest{TicketID: j.v.id, Score: score, Channel: ch, Reason: hub.RatingReasons[rng.IntN(len(hub.RatingReasons))].Code})
							require.NoError(t, err)
							j.v.score = score
						}
					}
					busy[c.id], j = nil, nil
				}
				if j != nil || m > 225 {
					continue
				}
				tk, err := eng.CallNext(ctx, c.id, c.clerk)
				require.NoError(t, err)
				if tk == nil {
					continue
				}
				v := byID[tk.ID]
				if v.firstCall == nil {
					fc := now
					v.firstCall = &fc
				}
				switch r := rng.IntN(20); {
				case r == 0:
					busy[c.id] = &job{v: v, until: m + 2, action: "noshow"}
				case r == 1 && v.transfers == 0 && c.id == "1":
					busy[c.id] = &job{v: v, until: m + 2, action: "transfer"}
				default:
					_, err := eng.Start(ctx, c.id, c.clerk)
					require.NoError(t, err)
					busy[c.id] = &job{v: v, start: m, until: m + 3 + rng.IntN(10), action: "finish"}
				}
			}
		}
		// Closing: whoever is at a counter is finished, the rest left
		// unserved by the end of the day.
		clk.Set(at(245))
		for _, c := range counters {
			if j := busy[c.id]; j != nil {
				switch j.action {
				case "finish":
					_, err := eng.Finish(ctx, c.id, c.clerk, hub.FinishRequest{})
					require.NoError(t, err)
					j.v.served, j.v.serviceTime = true, time.Duration(245-j.start)*time.Minute
				case "noshow":
					_, err := eng.NoShow(ctx, c.id, c.clerk)
					require.NoError(t, err)
					j.v.noShow = true
				case "transfer":
					_, err := eng.Transfer(ctx, c.id, c.clerk, hub.TransferRequest{Service: "cie"})
					require.NoError(t, err)
					j.v.transfers++
				}
			}
		}
		_, err := eng.EndOfDay(ctx, "chiusura", "supervisor")
		require.NoError(t, err)
		for _, v := range all {
			if !v.served && !v.noShow && !v.walkOut && v.issued.After(d) {
				v.unserved = true
				if v.firstCall == nil {
					v.cancelledAfter = at(245).Sub(v.issued)
				}
			}
		}
	}
	return dir, all
}

// expected is the test's own computation of the figures of a set of
// visits, from the generator's truth.
type expected struct {
	visits, served, noShows, transfers, walkOuts, unserved, appts, ratings int
	meanWait, p90Wait, sl, meanService, punct, sat                         string
}

func fmtDec(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', 1, 64), ".", ",", 1)
}

func expect(vs []*truth, target func(string) time.Duration) expected {
	var e expected
	var waits []float64
	var svc []float64
	inTarget, missed, onTime, scoreSum := 0, 0, 0, 0
	for _, v := range vs {
		e.visits++
		if v.firstCall != nil {
			w := v.firstCall.Sub(v.issued)
			waits = append(waits, w.Minutes())
			if w <= target(v.service) {
				inTarget++
			}
		} else if (v.walkOut || v.unserved) && v.cancelledAfter > target(v.service) {
			missed++
		}
		if v.served {
			e.served++
			svc = append(svc, v.serviceTime.Minutes())
		}
		if v.noShow {
			e.noShows++
		}
		e.transfers += v.transfers
		if v.walkOut {
			e.walkOuts++
		}
		if v.unserved {
			e.unserved++
		}
		if v.slot != nil {
			e.appts++
			if d := v.issued.Sub(*v.slot); d >= -15*time.Minute && d <= 5*time.Minute {
				onTime++
			}
		}
		if v.score > 0 {
			e.ratings++
			scoreSum += v.score
		}
	}
	dash := "—"
	e.meanWait, e.p90Wait, e.sl, e.meanService, e.punct, e.sat = dash, dash, dash, dash, dash, dash
	if len(waits) > 0 {
		sum := 0.0
		for _, w := range waits {
			sum += w
		}
		e.meanWait = fmtDec(sum / float64(len(waits)))
		sort.Float64s(waits)
		e.p90Wait = fmtDec(waits[int(math.Ceil(0.9*float64(len(waits))))-1])
	}
	if n := len(waits) + missed; n > 0 {
		e.sl = fmtDec(float64(inTarget)*100/float64(n)) + "%"
	}
	if len(svc) > 0 {
		sum := 0.0
		for _, s := range svc {
			sum += s
		}
		e.meanService = fmtDec(sum / float64(len(svc)))
	}
	if e.appts > 0 {
		e.punct = fmtDec(float64(onTime)*100/float64(e.appts)) + "%"
	}
	if e.ratings > 0 {
		e.sat = fmtDec(float64(scoreSum) / float64(e.ratings))
	}
	return e
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is not installed (make deps: poppler-utils)")
		}
		t.Skip("pdftotext is not installed (make deps: poppler-utils)")
	}
	f := filepath.Join(t.TempDir(), "report.pdf")
	require.NoError(t, os.WriteFile(f, pdf, 0o600))
	out, err := exec.Command(path, "-layout", f, "-").Output()
	require.NoError(t, err)
	return string(out)
}

// requireLine finds the line of the text that starts (after spaces) with
// label and checks the figures that follow it, separated by spaces.
func requireLine(t *testing.T, text, label string, figures ...string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `.*$`)
	lines := re.FindAllString(text, -1)
	require.NotEmpty(t, lines, "no line %q in the PDF", label)
	want := strings.Join(figures, " ")
	for _, l := range lines {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), label))
		if len(fields) >= len(figures) && strings.Join(fields[len(fields)-len(figures):], " ") == want {
			return
		}
	}
	t.Fatalf("line %q: want figures %q, the PDF has %q", label, want, lines)
}

func TestMonthlyPDFMatchesGeneratedMonth(t *testing.T) {
	site := hub.BuiltinSite()
	dir, visits := month(t, 7)
	target := func(s string) time.Duration { sv, _ := site.Service(s); return sv.TargetWait }
	exp := expect(visits, target)
	require.Greater(t, exp.visits, 200)
	require.Positive(t, exp.noShows)
	require.Positive(t, exp.transfers)
	require.Positive(t, exp.walkOuts+exp.unserved)
	require.Positive(t, exp.appts)
	require.Positive(t, exp.ratings)

	now := time.Date(2026, 12, 10, 9, 0, 0, 0, rome)
	report := func(opts boltstore.Options) (*kpi.Report, string) {
		opts.Logger = quiet
		st, err := boltstore.Open(filepath.Join(dir, "sportello.db"), opts)
		require.NoError(t, err)
		defer st.Close()
		rep, err := kpi.Month(st, site, "2026-11", now)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, rep.WritePDF(&buf))
		require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")))
		if p := os.Getenv("KPI_PDF_OUT"); p != "" {
			_ = os.WriteFile(p, buf.Bytes(), 0o600)
		}
		return rep, pdfText(t, buf.Bytes())
	}
	check := func(text string) {
		t.Helper()
		requireLine(t, text, "Visite / Visits", strconv.Itoa(exp.visits))
		requireLine(t, text, "Attesa media (min) / Mean wait", exp.meanWait)
		requireLine(t, text, "Attesa al 90° percentile (min) / 90th percentile wait", exp.p90Wait)
		requireLine(t, text, "Livello di servizio / Service level", exp.sl)
		requireLine(t, text, "Servizi conclusi / Services finished", strconv.Itoa(exp.served))
		requireLine(t, text, "Durata media del servizio (min) / Mean service time", exp.meanService)
		requireLine(t, text, "Mancate presentazioni / No-shows", strconv.Itoa(exp.noShows))
		requireLine(t, text, "Trasferimenti / Transfers", strconv.Itoa(exp.transfers))
		requireLine(t, text, "Abbandoni / Walk-outs", strconv.Itoa(exp.walkOuts))
		requireLine(t, text, "Non serviti a fine giornata / Unserved at closing", strconv.Itoa(exp.unserved))
		requireLine(t, text, "Appuntamenti / Appointments", strconv.Itoa(exp.appts))
		requireLine(t, text, "Puntualità degli appuntamenti / Appointment punctuality", exp.punct)
		requireLine(t, text, "Risposte al questionario / Survey answers", strconv.Itoa(exp.ratings))
		requireLine(t, text, "Soddisfazione media (1–5) / Mean satisfaction", exp.sat)
		// By service: visits, mean wait, p90, service level, mean service
		// time, no-shows, transfers, walk-outs, satisfaction.
		for _, s := range []string{"certificati", "cie", "informazioni"} {
			var vs []*truth
			for _, v := range visits {
				if v.service == s {
					vs = append(vs, v)
				}
			}
			e := expect(vs, target)
			sv, _ := site.Service(s)
			requireLine(t, text, truncateLabel(sv.Name.IT), strconv.Itoa(int(sv.TargetWait.Minutes())), strconv.Itoa(e.visits), e.meanWait, e.p90Wait, e.sl, e.meanService,
				strconv.Itoa(e.noShows), strconv.Itoa(e.transfers), strconv.Itoa(e.walkOuts), e.sat)
		}
		// The service closed all month renders as a row without figures.
		requireLine(t, text, "Residenza e cambio di", "20", "0", "—", "—", "—", "—", "0", "0", "0", "—")
		for _, title := range []string{"Attesa media per ora di arrivo", "Livello di servizio per servizio", "Andamento della soddisfazione", "Soddisfazione rispetto all'attesa"} {
			require.Contains(t, text, title)
		}
	}
	rep, text := report(boltstore.Options{})
	check(text)
	require.Equal(t, exp.visits, rep.Total.Visits)

	// Retention: the days' aggregates are kept, personal data purged and
	// the events pruned; the report is the same.
	st, err := boltstore.Open(filepath.Join(dir, "sportello.db"), boltstore.Options{NoSync: true, Logger: quiet})
	require.NoError(t, err)
	n, err := kpi.Keep(st, st, site, now)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 30)
	kept, err := st.Aggregates("2026-11-01", "2026-11-30")
	require.NoError(t, err)
	var keptDays []string
	for d := range kept {
		keptDays = append(keptDays, d)
	}
	sort.Strings(keptDays)
	// From the first day in the log (the 2nd) to the 30th, weekends too:
	// empty days are stored.
	require.Len(t, keptDays, 29, "%v", keptDays)
	require.Equal(t, "2026-11-02", keptDays[0])
	clk := &simClock{now: now.AddDate(0, 2, 0)}
	eng, err := hub.New(hub.Config{Site: site, Store: st, Clock: clk.Now, Logger: quiet})
	require.NoError(t, err)
	purged, err := eng.PurgePersonal(context.Background(), 30*24*time.Hour)
	require.NoError(t, err)
	eng.Close()
	st.Close()
	t.Logf("purged %d records", purged)
	_, pruned := report(boltstore.Options{KeepEvents: 10})
	check(pruned)
}

// truncateLabel is how the PDF's first column shortens long names.
func truncateLabel(s string) string {
	r := []rune(s)
	if len(r) <= 30 {
		return s
	}
	return string(r[:20])
}

func TestReportRendersEmptyMonth(t *testing.T) {
	site := hub.BuiltinSite()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "sportello.db"), boltstore.Options{NoSync: true, Logger: quiet})
	require.NoError(t, err)
	defer st.Close()
	rep, err := kpi.Month(st, site, "2026-11", time.Date(2026, 12, 1, 9, 0, 0, 0, rome))
	require.NoError(t, err)
	var pdf, csv bytes.Buffer
	require.NoError(t, rep.WritePDF(&pdf))
	require.NoError(t, rep.WriteCSV(&csv, true))
	text := pdfText(t, pdf.Bytes())
	requireLine(t, text, "Visite / Visits", "0")
	requireLine(t, text, "Attesa media (min) / Mean wait", "—")
	requireLine(t, text, "Soddisfazione media (1–5) / Mean satisfaction", "—")
	for _, c := range rep.Charts() {
		require.Contains(t, string(c.SVG()), "<title id=")
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	require.Len(t, lines, 1+1+len(site.Services)+len(site.Counters)+30, "header, total, services, counters, 30 days")
	require.Equal(t, fmt.Sprint(strings.Join(kpi.CSVHeader, ",")), lines[0])
}
