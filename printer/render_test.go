package printer

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestRenderQRDecodes renders the reference ticket for each built-in
// profile, native and raster QR alike, and reads the QR back with zbarimg.
func TestRenderQRDecodes(t *testing.T) {
	tk := referenceTicket()
	for _, name := range ProfileNames() {
		t.Run(name, func(t *testing.T) {
			p := mustProfile(t, name)
			out, err := RenderPNG(Layout(tk, p), p.DotsWidth)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != p.DotsWidth || h < 600 || h > 3000 {
				t.Errorf("image %d×%d, want %d wide and a ticket's height", w, h, p.DotsWidth)
			}
			path := filepath.Join(t.TempDir(), name+".png")
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			if got := zbar(t, path); got != tk.TrackURL {
				t.Errorf("QR reads %q, want %q", got, tk.TrackURL)
			}
		})
	}
}

func TestRenderText(t *testing.T) {
	p := mustProfile(t, "epson-tm-t20")
	blank, err := Render(NewEncoder(p).Init().Line("").Bytes(), 576)
	if err != nil {
		t.Fatal(err)
	}
	for _, px := range blank.Pix {
		if px != 0xFF {
			t.Fatal("an empty line drew something")
		}
	}
	text, err := Render(NewEncoder(p).Init().Line("€ àèéìòù").Bytes(), 576)
	if err != nil {
		t.Fatal(err)
	}
	black := 0
	for _, px := range text.Pix {
		if px == 0 {
			black++
		}
	}
	if black < 100 {
		t.Errorf("text drew %d black dots", black)
	}
	big, _ := Render(NewEncoder(p).Init().Size(4, 4).Line("A").Bytes(), 576)
	small, _ := Render(NewEncoder(p).Init().Line("A").Bytes(), 576)
	if big.Bounds().Dy() <= 3*small.Bounds().Dy()/2 {
		t.Errorf("4×4 text is %d high, 1×1 is %d", big.Bounds().Dy(), small.Bounds().Dy())
	}
	if _, err := Render(nil, 4); err == nil {
		t.Error("width 4 accepted")
	}
}

// TestRenderReference writes the rendered reference tickets next to the
// golden files under -update, for a person to look at.
func TestRenderReference(t *testing.T) {
	if !*update {
		t.Skip("only with -update")
	}
	for _, name := range []string{"epson-tm-t20", "generic-58mm"} {
		p := mustProfile(t, name)
		out, err := RenderPNG(Layout(referenceTicket(), p), p.DotsWidth)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "reference-ticket-"+name+".png"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add([]byte("hello\n"))
	f.Add([]byte{esc, '@', esc, 't', 19, 0xD5, lf, gs, '!', 0x77, 'X', lf})
	f.Add([]byte{gs, 'v', '0', 3, 2, 0, 4, 0, 0xFF, 0x0F, 0xAA, 0x55, 0x01, 0x80, 0xFF, 0xFF})
	f.Add([]byte{gs, '(', 'k', 6, 0, '1', 'P', '0', 'a', 'b', 'c', gs, '(', 'k', 3, 0, '1', 'Q', '0'})
	f.Add([]byte{gs, '(', 'k', 3, 0, '1', 'C', 200, gs, 'V', 66})
	f.Add([]byte{esc, 'd', 255, esc, 'd', 255, dle, eot, 1, fs, '.', gs, 'v', '0', 0, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add(NewEncoder(mustProfile(f, "generic-58mm")).Init().Line("Sì").Size(2, 2).QR("https://x.test/t/1").Cut().Bytes()[:1000])
	f.Fuzz(func(t *testing.T, job []byte) {
		if len(job) > 1024 { // small inputs keep the fuzzer fast
			return
		}
		w := 576
		if len(job)%2 == 1 {
			w = 384
		}
		img, err := Render(job, w)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != w || img.Bounds().Dy() > maxRenderHeight {
			t.Fatalf("image %v", img.Bounds())
		}
	})
}
