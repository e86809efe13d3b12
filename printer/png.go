package printer

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// pngPrinter renders each job to a PNG file in a directory: the virtual
// totems of `sportello demo` print this way, and a person can look at the
// ticket a real printer would have produced.
type pngPrinter struct {
	dir   string
	width int

	mu  sync.Mutex
	seq int
}

// openPNGPrinter creates dir if needed, so a wrong path is refused at start.
func openPNGPrinter(dir string, width int) (*pngPrinter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("printer: png: %w", err)
	}
	return &pngPrinter{dir: dir, width: width}, nil
}

// Print renders job and writes it as ticket-YYYYMMDD-HHMMSS-NNN.png; an
// existing file is never overwritten.
func (p *pngPrinter) Print(ctx context.Context, job []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	img, err := RenderPNG(job, p.width)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	stamp := time.Now().Format("20060102-150405")
	for {
		p.seq++
		name := filepath.Join(p.dir, fmt.Sprintf("ticket-%s-%03d.png", stamp, p.seq))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, iofs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("printer: png: %w", err)
		}
		_, err = f.Write(img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("printer: png: %w", err)
		}
		return nil
	}
}

// Status is always ok.
func (p *pngPrinter) Status(context.Context) (State, error) { return StateOK, nil }

func (p *pngPrinter) Close() error { return nil }
