// Command voicegen generates the voice clips of the waiting-room displays
// (make voices): every clip of display.Clips(), spoken by espeak-ng,
// trimmed and normalised by sox and encoded by lame as 16 kHz mono MP3,
// plus the chime (sox synth). The clips are committed under
// assets/static/voice and embedded in the binary: the display PCs need no
// speech engine.
//
// It needs the Debian packages espeak-ng, sox and lame. The output is
// deterministic for a given version of those tools (sox -R: repeatable
// dither and pluck noise), so rerunning it on an unchanged clip list
// changes no file.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/comune-rc/sportello/display"
)

func main() {
	out := flag.String("out", "assets/static/voice", "directory of the clips")
	speed := flag.Int("speed", 150, "espeak-ng speed, words per minute")
	bitrate := flag.Int("bitrate", 16, "MP3 bitrate in kbit/s (MPEG-2 at 16 kHz: 8, 16, 24, 32...)")
	jobs := flag.Int("jobs", 2*runtime.NumCPU(), "clips generated in parallel")
	only := flag.String("only", "", "generate only clips whose name starts with this (for trying voices)")
	flag.Parse()
	for _, tool := range []string{"espeak-ng", "sox", "lame"} {
		if _, err := exec.LookPath(tool); err != nil {
			fatalf("%s is missing: apt-get install espeak-ng sox lame", tool)
		}
	}
	clips := display.Clips()
	if *only != "" {
		var sel []display.Clip
		for _, c := range clips {
			if strings.HasPrefix(c.Name, *only) {
				sel = append(sel, c)
			}
		}
		clips = sel
	}
	tmp, err := os.MkdirTemp("", "voicegen")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(tmp)

	g := gen{out: *out, tmp: tmp, speed: *speed, bitrate: *bitrate}
	work := make(chan display.Clip)
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	for i := 0; i < max(1, *jobs); i++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for c := range work {
				if err := g.make(c, w); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("%s: %v", c.Name, err))
					mu.Unlock()
				}
			}
		}(i)
	}
	for _, c := range clips {
		work <- c
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		if len(errs) > 5 {
			errs = append(errs[:5], "...")
		}
		fatalf("%d clips failed:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	if *only == "" {
		removed := g.prune(clips)
		if removed > 0 {
			fmt.Printf("removed %d stale clips\n", removed)
		}
	}
	var total int64
	_ = filepath.WalkDir(*out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	fmt.Printf("%d clips in %s, %.2f MB in all\n", len(clips), *out, float64(total)/1e6)
}

type gen struct {
	out, tmp       string
	speed, bitrate int
}

func (g gen) make(c display.Clip, worker int) error {
	dst := filepath.Join(g.out, filepath.FromSlash(c.Name)+".mp3")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	raw := filepath.Join(g.tmp, fmt.Sprintf("raw%d.wav", worker))
	wav := filepath.Join(g.tmp, fmt.Sprintf("clip%d.wav", worker))
	if c.Lang == "" {
		if err := chime(g.tmp, worker, wav); err != nil {
			return err
		}
	} else {
		if err := run("espeak-ng", "-v", c.Lang, "-s", strconv.Itoa(g.speed), "-w", raw, c.Text); err != nil {
			return err
		}
		// 16 kHz mono; silence trimmed at both ends (espeak-ng leaves
		// about 0.3 s), a few ms of fade against clicks, peak at -1 dBFS.
		if err := run("sox", "-R", raw, "-r", "16000", "-c", "1", "-b", "16", wav,
			"silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "fade", "q", "0.012",
			"reverse", "fade", "q", "0.004", "norm", "-1", "pad", "0.01", "0.02"); err != nil {
			return err
		}
	}
	tmpOut := filepath.Join(g.tmp, fmt.Sprintf("clip%d.mp3", worker))
	if err := run("lame", "--quiet", "-m", "m", "-b", strconv.Itoa(g.bitrate), "--resample", "16", wav, tmpOut); err != nil {
		return err
	}
	data, err := os.ReadFile(tmpOut)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(dst); err == nil && string(old) == string(data) {
		return nil // unchanged: keep the file (and its mtime) as is
	}
	return os.WriteFile(dst, data, 0o644)
}

// chime is a two-note "ding-dong" (E5 then C5, plucked), quieter than the
// voice.
func chime(tmp string, worker int, wav string) error {
	d1 := filepath.Join(tmp, fmt.Sprintf("ding%d.wav", worker))
	d2 := filepath.Join(tmp, fmt.Sprintf("dong%d.wav", worker))
	if err := run("sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", d1, "synth", "0.45", "pluck", "E5", "fade", "q", "0.005", "0.45", "0.35", "gain", "-4"); err != nil {
		return err
	}
	if err := run("sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", d2, "synth", "0.8", "pluck", "C5", "fade", "q", "0.005", "0.8", "0.7", "gain", "-4"); err != nil {
		return err
	}
	return run("sox", "-R", d1, d2, wav)
}

// prune removes clips that are no longer in the list.
func (g gen) prune(clips []display.Clip) int {
	want := map[string]bool{}
	for _, c := range clips {
		want[filepath.Join(g.out, filepath.FromSlash(c.Name)+".mp3")] = true
	}
	n := 0
	_ = filepath.WalkDir(g.out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".mp3") && !want[p] {
			if os.Remove(p) == nil {
				n++
			}
		}
		return nil
	})
	return n
}

func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "voicegen: "+format+"\n", args...)
	os.Exit(1)
}
