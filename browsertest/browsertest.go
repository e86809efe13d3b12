// Package browsertest starts the headless Chromium that the page packages'
// tests drive through chromedp: one browser per test package, started on
// first use and stopped by the package's TestMain, and a fresh browser
// context (its own cookies and storage) for every tab. Without Chromium a
// test is skipped, except under CI=true, where it fails: CI must not pass
// by not running the browser tests.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Options describe the browser a test package shares.
type Options struct {
	// Name prefixes the profile directory: "kiosk" → $TMPDIR/kiosk-chromium-….
	Name string
	// Flags replace Flags() when set (ExecPath, the profile directory and
	// the window size are added to either).
	Flags []chromedp.ExecAllocatorOption
	// Width and Height size the window; zero leaves Chromium's default.
	Width, Height int
	// ContextOptions go to the browser's context (chromedp.WithDebugf…).
	ContextOptions []chromedp.ContextOption
}

// Flags are what the tests run Chromium with: headless and without a
// sandbox or GPU (containers), and without the background work (updates,
// sync, QUIC, throttling of hidden pages) that makes a test slow or flaky.
func Flags() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("password-store", "basic"),
	}
}

// Path is the Chromium to run: CHROMIUM (a path, or a name on PATH), else
// the first of Debian's, Ubuntu's and Google's that is installed; "" when
// there is none.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
		return ""
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium, started on first use.
type Browser struct {
	opts   Options
	once   sync.Once
	ctx    context.Context
	err    error
	cancel func()
}

// New describes a browser; nothing starts until a test asks for it.
func New(o Options) *Browser { return &Browser{opts: o} }

// Context returns the browser's context, starting Chromium on first use.
// Without Chromium the test is skipped, or fails under CI=true.
func (b *Browser) Context(t testing.TB) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (apt-get install -y chromium, or set CHROMIUM): the browser tests are required under CI=true")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium, or set CHROMIUM); set CI=true to make this a failure")
	}
	b.once.Do(func() { b.start(path) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.ctx
}

func (b *Browser) start(path string) {
	name := b.opts.Name
	if name == "" {
		name = "browsertest"
	}
	dir, err := os.MkdirTemp("", name+"-chromium-")
	if err != nil {
		b.err = err
		return
	}
	flags := b.opts.Flags
	if flags == nil {
		flags = Flags()
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(dir)}, flags...)
	if b.opts.Width > 0 && b.opts.Height > 0 {
		opts = append(opts, chromedp.WindowSize(b.opts.Width, b.opts.Height))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, b.opts.ContextOptions...)
	stop := func() {
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(dir)
	}
	if err := chromedp.Do(ctx); err != nil {
		stop()
		b.err = fmt.Errorf("start chromium %s: %w", path, err)
		return
	}
	b.ctx, b.cancel = ctx, stop
}

// Tab opens a tab in a browser context of its own and closes it when the
// test ends. A timeout above zero bounds everything done in the tab.
func (b *Browser) Tab(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.Context(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first Run creates the tab, which lives as long as the context of
	// that Run: this one, not the timed one below.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	if timeout > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeout(ctx, timeout)
		t.Cleanup(cancelT)
	}
	return ctx
}

// Close stops Chromium, if it was started, and removes its profile.
func (b *Browser) Close() {
	if b.cancel != nil {
		b.cancel()
	}
}

// Run does the actions in the tab, or fails the test.
func Run(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// Eval evaluates a JavaScript expression in the tab, or fails the test.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// Click clicks the element css selects.
func Click(t testing.TB, ctx context.Context, css string) {
	t.Helper()
	Run(t, ctx, chromedp.Click(chromedp.CSS(css)))
}

// Text is what the element css selects shows (innerText), "" without one.
func Text(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	return Eval[string](t, ctx, `(document.querySelector(`+JSString(css)+`) || {innerText: ''}).innerText`)
}

// JSString quotes s as a JavaScript string literal, for building
// expressions.
func JSString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
