package hub_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/require"
)

func async(c *hub.Config) { c.AsyncEstimates = true }

func settle(t *testing.T, eng *hub.Engine) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, eng.EstimatesSettled(c))
}

// waitingEWTs is every waiting ticket's estimate, by number.
func waitingEWTs(t *testing.T, eng *hub.Engine) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	for _, v := range eng.Tickets(hub.TicketFilter{Status: hub.StatusWaiting}) {
		out[v.Ticket.Number] = v.EWT
	}
	return out
}

// The estimates computed off the writer are the writer's, to the
// nanosecond, when the worker keeps up with every commit: same estimator,
// same policy, same learning, only elsewhere.
func TestAsyncEstimatesEqualWritersOnes(t *testing.T) {
	syncE, asyncE := newEnv(t), newEnv(t, async)
	step := 0
	both := func(f func(e *env)) {
		f(syncE)
		f(asyncE)
		settle(t, asyncE.eng)
		want, got := waitingEWTs(t, syncE.eng), waitingEWTs(t, asyncE.eng)
		step++
		require.Equal(t, want, got, "after step %d", step)
	}
	services := []string{"certificati", "residenza", "informazioni"}
	both(func(e *env) { e.open1("1", "clerk01"); e.open1("2", "clerk02"); e.open1("3", "clerk03") })
	for i := 0; i < 24; i++ {
		both(func(e *env) {
			e.issue(services[i%len(services)], hub.Priorities[i%len(hub.Priorities)])
			e.clock.Advance(40 * time.Second)
		})
		if i%4 == 3 {
			c := fmt.Sprint(1 + (i/4)%3)
			both(func(e *env) {
				_, err := e.eng.CallNext(ctx, c, "clerk0"+c)
				require.NoError(t, err)
				settle(t, e.eng)
				e.clock.Advance(30 * time.Second)
				_, err = e.eng.Start(ctx, c, "clerk0"+c)
				require.NoError(t, err)
				settle(t, e.eng)
				e.clock.Advance(3 * time.Minute)
				_, err = e.eng.Finish(ctx, c, "clerk0"+c, hub.FinishRequest{})
				require.NoError(t, err)
				settle(t, e.eng)
			})
		}
	}
	require.NotEmpty(t, waitingEWTs(t, asyncE.eng))
}

// gate is an estimator that can be held inside Estimate.
type gate struct {
	hub.Estimator
	hold    atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gate) Estimate(in hub.EstimateInput) map[string]time.Duration {
	if g.hold.Load() {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.Estimator.Estimate(in)
}

// No command waits for a projection: with the estimator held, calls
// still commit and answer; a new ticket waits for its estimate only up to
// EstimateWait, and gets it once the estimator is free.
func TestCallNextDoesNotWaitForEstimates(t *testing.T) {
	g := &gate{Estimator: hub.NewProjectionEstimator(), entered: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, async, func(c *hub.Config) { c.Estimator = g; c.EstimateWait = 20 * time.Millisecond })
	e.open1("1", "clerk01")
	e.open1("2", "clerk02")
	var ids []string
	for i := 0; i < 6; i++ {
		ids = append(ids, e.issue("certificati", hub.PriorityNone).ID)
	}
	settle(t, e.eng)
	g.hold.Store(true)
	first, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	<-g.entered // the worker is now inside Estimate, held
	second, err := e.eng.CallNext(ctx, "2", "clerk02")
	require.NoError(t, err, "a call while the estimator is busy")
	require.NotEqual(t, first.ID, second.ID)
	late := e.issue("certificati", hub.PriorityNone)
	e.eng.AwaitEstimate(ctx, late.ID) // gives up after EstimateWait
	v, err := e.eng.Ticket(late.ID)
	require.NoError(t, err)
	require.Equal(t, 5, v.Position, "positions are the writer's, at once")
	ahead, err := e.eng.Ticket(ids[5])
	require.NoError(t, err)
	require.Greater(t, ahead.EWT, time.Duration(0))
	require.Equal(t, ahead.EWT, v.EWT, "without its own estimate yet, the one of the ticket ahead")
	// Every queue figure stays there meanwhile: the last estimate stands in.
	for _, q := range e.eng.Queue() {
		if q.Service == "certificati" {
			require.Equal(t, 5, q.Waiting)
			require.Greater(t, q.EWTMin, 0)
		}
	}
	g.hold.Store(false)
	close(g.release)
	settle(t, e.eng)
	v, err = e.eng.Ticket(late.ID)
	require.NoError(t, err)
	require.Greater(t, v.EWT, time.Duration(0), "the late ticket has its estimate")
	// Two counters free together: estimates never shrink down the queue.
	prev := time.Duration(-1)
	for _, id := range append(ids[2:], late.ID) {
		v, err := e.eng.Ticket(id)
		require.NoError(t, err)
		require.GreaterOrEqual(t, v.EWT, prev, "estimates grow with the position")
		prev = v.EWT
	}
	head, _ := e.eng.Ticket(ids[2])
	require.Greater(t, prev, head.EWT)
}

// A ticket issued off the writer has its own estimate once AwaitEstimate
// returns: it is printed.
func TestAsyncIssueCarriesItsEstimate(t *testing.T) {
	e := newEnv(t, async)
	e.open1("1", "clerk01")
	prev := time.Duration(-1)
	for i := 0; i < 5; i++ {
		tk := e.issue("certificati", hub.PriorityNone)
		e.eng.AwaitEstimate(ctx, tk.ID)
		v, err := e.eng.Ticket(tk.ID)
		require.NoError(t, err)
		// One desk: each ticket waits longer than the one before; the
		// stand-in (the estimate of the ticket ahead) would be equal.
		require.Greater(t, v.EWT, prev, "ticket %d", i+1)
		prev = v.EWT
	}
}

// Many desks calling while tickets are issued, with the estimates off
// the writer: each ticket is called once, and at the end every waiting
// ticket has an estimate. Run with -race.
func TestAsyncEstimatesUnderConcurrentCalls(t *testing.T) {
	e := newEnv(t, async)
	services := []string{"certificati", "cie", "residenza", "stato_civile"}
	for i := 1; i <= 8; i++ {
		e.open1(fmt.Sprint(i), fmt.Sprintf("clerk%02d", i))
	}
	for i := 0; i < 100; i++ {
		e.issue(services[i%len(services)], hub.PriorityNone)
	}
	var mu sync.Mutex
	called := map[string]int{}
	var wg sync.WaitGroup
	for i := 1; i <= 8; i++ {
		wg.Add(1)
		go func(c, clerk string) {
			defer wg.Done()
			for n := 0; n < 15; n++ {
				tk, err := e.eng.CallNext(ctx, c, clerk)
				if err != nil {
					t.Errorf("call-next %s: %v", c, err)
					return
				}
				if tk == nil {
					return
				}
				mu.Lock()
				called[tk.ID]++
				mu.Unlock()
				if _, err := e.eng.Finish(ctx, c, clerk, hub.FinishRequest{}); err != nil {
					t.Errorf("finish %s: %v", c, err)
					return
				}
			}
		}(fmt.Sprint(i), fmt.Sprintf("clerk%02d", i))
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 30; i++ {
			if _, _, err := e.eng.Issue(ctx, hub.IssueRequest{Service: services[i%len(services)], Channel: hub.ChannelTotem}); err != nil {
				t.Errorf("issue: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	for id, n := range called {
		require.Equal(t, 1, n, "ticket %s called %d times", id, n)
	}
	settle(t, e.eng)
	ewt := waitingEWTs(t, e.eng)
	require.Len(t, ewt, 100+30-len(called))
	for _, v := range e.eng.Tickets(hub.TicketFilter{Status: hub.StatusWaiting}) {
		// Served by some open counter: a finite estimate, not the horizon.
		require.Less(t, v.EWT, 8*time.Hour, "ticket %s of %s", v.Ticket.Number, v.Ticket.Service)
	}
}

// panicky is an estimator with a bug that shows on some queue.
type panicky struct {
	hub.Estimator
	on atomic.Bool
}

func (p *panicky) Estimate(in hub.EstimateInput) map[string]time.Duration {
	if p.on.Load() {
		panic("estimator bug")
	}
	return p.Estimator.Estimate(in)
}

// A bug in the estimator off the writer costs fresh estimates, not the
// office: commands go on, the last estimates stay, and the estimates
// come back once the bug does not show.
func TestAsyncEstimatorPanicIsContained(t *testing.T) {
	p := &panicky{Estimator: hub.NewProjectionEstimator()}
	e := newEnv(t, async, func(c *hub.Config) { c.Estimator = p })
	e.open1("1", "clerk01")
	e.issue("certificati", hub.PriorityNone)
	e.issue("certificati", hub.PriorityNone)
	settle(t, e.eng)
	p.on.Store(true)
	late := e.issue("certificati", hub.PriorityNone)
	settle(t, e.eng)
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err, "the office goes on")
	settle(t, e.eng)
	v, err := e.eng.Ticket(late.ID)
	require.NoError(t, err)
	require.Equal(t, 2, v.Position)
	p.on.Store(false)
	e.clock.Advance(2 * time.Minute) // the next projection is due
	e.issue("certificati", hub.PriorityNone)
	settle(t, e.eng)
	ewt := waitingEWTs(t, e.eng)
	require.Len(t, ewt, 3)
	v, _ = e.eng.Ticket(late.ID)
	require.Greater(t, v.EWT, time.Duration(0))
}
