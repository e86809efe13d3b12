// Package agent is the totem agent (`sportello totem`): it runs on the PC of
// a self-service totem, keeps a websocket to the hub with the totem's device
// token, prints the tickets the hub sends on the local thermal printer, and
// reports each job's result and the printer's state. It reconnects forever,
// with backoff and jitter; a job is never printed twice, because the agent
// remembers what it printed and answers a resent job without printing it.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/printer"
	"github.com/gorilla/websocket"
)

// Printer is what the agent needs of a printer (printer.Printer has it).
type Printer interface {
	Print(ctx context.Context, job []byte) error
	Status(ctx context.Context) (printer.State, error)
	Close() error
}

// Config is the agent's configuration.
type Config struct {
	HubURL  string // http(s)://host:port of the hub
	TotemID string
	Token   string
	Printer Printer
	Profile printer.Profile
	// StatusEvery is how often the printer's state is read and reported.
	StatusEvery time.Duration
	// StateFile, when set, keeps the ids of printed jobs across agent
	// restarts (a hub that missed the result resends the job).
	StateFile string
	Version   string
	Logger    *slog.Logger
	// MaxBackoff caps the reconnect delay (default 30 s).
	MaxBackoff time.Duration
	// OnPrinted is called after each printed job (the demo logs where the
	// ticket landed).
	OnPrinted func(job string, t httpapi.JobTicket)
}

// Agent is a running totem agent.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	mu      sync.Mutex
	printed map[string]time.Time
	state   printer.State
}

// New validates the configuration and loads the printed-job memory.
func New(cfg Config) (*Agent, error) {
	if cfg.HubURL == "" || cfg.TotemID == "" || cfg.Token == "" || cfg.Printer == nil {
		return nil, errors.New("agent: hub URL, totem id, token and printer are required")
	}
	u, err := url.Parse(cfg.HubURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("agent: --hub %q: want http://HOST:PORT or https://HOST:PORT", cfg.HubURL)
	}
	if cfg.StatusEvery <= 0 {
		cfg.StatusEvery = 10 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Agent{cfg: cfg, log: cfg.Logger.With("component", "totem", "totem", cfg.TotemID), printed: map[string]time.Time{}, state: -1}
	if err := a.loadState(); err != nil {
		return nil, err
	}
	return a, nil
}

// Run connects and serves jobs until ctx ends, reconnecting after every
// failure with full-jitter exponential backoff.
func (a *Agent) Run(ctx context.Context) error {
	attempt := 0
	for {
		start := time.Now()
		err := a.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			attempt = 0 // it was a good connection: start the backoff over
		}
		attempt++
		d := backoff(attempt, a.cfg.MaxBackoff)
		a.log.Warn("hub connection lost; reconnecting", "err", err, "in", d.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

// backoff is "full jitter": a random delay up to min(max, 250 ms · 2^n).
func backoff(attempt int, max time.Duration) time.Duration {
	ceil := 250 * time.Millisecond << min(attempt, 16)
	if ceil > max || ceil <= 0 {
		ceil = max
	}
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

func (a *Agent) wsURL() string {
	u := strings.TrimRight(a.cfg.HubURL, "/")
	u = "ws" + strings.TrimPrefix(u, "http")
	return u + "/api/v1/totems/" + url.PathEscape(a.cfg.TotemID) + "/jobs"
}

func (a *Agent) session(ctx context.Context) error {
	hdr := http.Header{"Authorization": {"Bearer " + a.cfg.Token}}
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := dialer.DialContext(ctx, a.wsURL(), hdr)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
			return fmt.Errorf("dial %s: %s", a.wsURL(), resp.Status)
		}
		return err
	}
	defer conn.Close()
	a.log.Info("connected to the hub", "url", a.wsURL())
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wmu sync.Mutex
	send := func(m httpapi.AgentMessage) error {
		data, _ := json.Marshal(m)
		wmu.Lock()
		defer wmu.Unlock()
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		return conn.WriteMessage(websocket.TextMessage, data)
	}
	// The hub pings; answering needs a reader, which is the loop below.
	conn.SetPingHandler(func(data string) error {
		wmu.Lock()
		defer wmu.Unlock()
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	go func() {
		<-sctx.Done()
		_ = conn.Close()
	}()

	if err := send(a.statusMessage(sctx)); err != nil {
		return err
	}
	jobs := make(chan httpapi.JobMessage, 64)
	errc := make(chan error, 2)
	go func() {
		defer close(jobs)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				errc <- err
				return
			}
			var m httpapi.JobMessage
			if err := json.Unmarshal(data, &m); err != nil || m.Type != "job" || m.Job == "" {
				a.log.Warn("ignoring a message from the hub", "err", err)
				continue
			}
			select {
			case jobs <- m:
			case <-sctx.Done():
				return
			}
		}
	}()
	tick := time.NewTicker(a.cfg.StatusEvery)
	defer tick.Stop()
	for {
		select {
		case <-sctx.Done():
			return sctx.Err()
		case err := <-errc:
			return err
		case <-tick.C:
			if err := send(a.statusMessage(sctx)); err != nil {
				return err
			}
		case m, ok := <-jobs:
			if !ok {
				return <-errc
			}
			res := a.handle(sctx, m)
			if err := send(res); err != nil {
				return err
			}
		}
	}
}

func (a *Agent) statusMessage(ctx context.Context) httpapi.AgentMessage {
	st := a.readState(ctx)
	return httpapi.AgentMessage{Type: "status", State: st.String(), Version: a.cfg.Version}
}

func (a *Agent) readState(ctx context.Context) printer.State {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := a.cfg.Printer.Status(sctx)
	if err != nil {
		st = printer.StateOffline
	}
	a.mu.Lock()
	if st != a.state {
		a.log.Info("printer state", "state", st.String())
	}
	a.state = st
	a.mu.Unlock()
	return st
}

// handle prints one job, unless it was printed already, and returns the
// result to report.
func (a *Agent) handle(ctx context.Context, m httpapi.JobMessage) httpapi.AgentMessage {
	res := httpapi.AgentMessage{Type: "result", Job: m.Job}
	a.mu.Lock()
	_, done := a.printed[m.Job]
	a.mu.Unlock()
	if done {
		res.OK = true
		return res
	}
	// A printer that cannot print is not sent the job: the citizen is told
	// at once to use the QR on the screen.
	if st := a.readState(ctx); !st.CanPrint() {
		res.Error = st.String()
		return res
	}
	data := printer.Layout(printer.Ticket{
		Comune: m.Ticket.Comune, Office: m.Ticket.Office, Number: m.Ticket.Number, Service: m.Ticket.Service, ServiceEN: m.Ticket.ServiceEN,
		IssuedAt: m.Ticket.IssuedAt, Position: m.Ticket.Position, EWTMin: m.Ticket.EWTMin, TrackURL: m.Ticket.TrackURL,
	}, a.cfg.Profile)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.cfg.Printer.Print(pctx, data); err != nil {
		a.log.Error("print failed", "job", m.Job, "number", m.Ticket.Number, "err", err)
		res.Error = err.Error()
		if st := a.readState(ctx); !st.CanPrint() {
			res.Error = st.String() + ": " + res.Error
		}
		return res
	}
	a.remember(m.Job)
	res.OK = true
	a.log.Info("printed", "job", m.Job, "number", m.Ticket.Number)
	if a.cfg.OnPrinted != nil {
		a.cfg.OnPrinted(m.Job, m.Ticket)
	}
	return res
}

// remember records a printed job, on disk first when there is a state
// file, so that a crash right after printing does not print it again.
func (a *Agent) remember(job string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	a.printed[job] = now
	for id, at := range a.printed {
		if now.Sub(at) > 48*time.Hour {
			delete(a.printed, id)
		}
	}
	if a.cfg.StateFile == "" {
		return
	}
	data, _ := json.Marshal(a.printed)
	tmp := a.cfg.StateFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err == nil {
		err = os.Rename(tmp, a.cfg.StateFile)
		if err != nil {
			a.log.Error("saving printed jobs", "err", err)
		}
	}
}

func (a *Agent) loadState() error {
	if a.cfg.StateFile == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(a.cfg.StateFile), 0o750); err != nil {
		return err
	}
	data, err := os.ReadFile(a.cfg.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent: state file: %w", err)
	}
	if err := json.Unmarshal(data, &a.printed); err != nil {
		a.log.Warn("state file unreadable: starting with an empty memory", "file", a.cfg.StateFile, "err", err)
		a.printed = map[string]time.Time{}
	}
	return nil
}

// Printed reports whether the agent printed job (for tests).
func (a *Agent) Printed(job string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.printed[job]
	return ok
}
