package printer

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// filePrinter appends each job's raw ESC/POS bytes to a file: for tests,
// for the demo, and for feeding a printer through a pipe or a spooler.
type filePrinter struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// openFilePrinter opens (or creates) path for appending now, so that a
// wrong path is refused at start. O_APPEND makes each job one append.
func openFilePrinter(path string) (*filePrinter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("printer: file: %w", err)
	}
	return &filePrinter{path: path, f: f}, nil
}

func (p *filePrinter) Print(ctx context.Context, job []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return fmt.Errorf("printer: %s: closed", p.path)
	}
	if _, err := p.f.Write(job); err != nil {
		return fmt.Errorf("printer: file: %w", err)
	}
	return nil
}

// Status is always ok: a file has no paper to run out of.
func (p *filePrinter) Status(context.Context) (State, error) { return StateOK, nil }

func (p *filePrinter) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == nil {
		return nil
	}
	err := p.f.Close()
	p.f = nil
	return err
}
