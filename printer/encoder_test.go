package printer

import (
	"bytes"
	"strings"
	"testing"
)

func TestLayoutGolden(t *testing.T) {
	for _, tc := range []struct{ profile, file string }{
		{"epson-tm-t20", "reference-ticket.bin"},
		{"generic-58mm", "reference-ticket-58mm.bin"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			job := Layout(referenceTicket(), mustProfile(t, tc.profile))
			golden(t, tc.file, job)
			if again := Layout(referenceTicket(), mustProfile(t, tc.profile)); !bytes.Equal(job, again) {
				t.Fatal("Layout is not deterministic")
			}
		})
	}
}

func TestLayoutSequences(t *testing.T) {
	tk := referenceTicket()
	url := tk.TrackURL
	n := len(url) + 3
	store := concat([]byte{gs, '(', 'k', byte(n), byte(n >> 8), '1', 'P', '0'}, []byte(url))

	for _, tc := range []struct {
		profile string
		prefix  []byte   // the job starts with it
		has     [][]byte // sequences it contains
		hasNot  [][]byte
	}{
		{
			profile: "epson-tm-t20",
			prefix:  []byte{esc, '@', esc, 'R', 0, esc, 't', 19},
			has: [][]byte{
				{gs, '!', 0x33},
				{gs, '(', 'k', 4, 0, '1', 'A', '2', 0},
				{gs, '(', 'k', 3, 0, '1', 'C', 6},
				{gs, '(', 'k', 3, 0, '1', 'E', '1'},
				store,
				{gs, '(', 'k', 3, 0, '1', 'Q', '0'},
				{esc, 'E', 1},
				{esc, 'a', 1},
			},
			hasNot: [][]byte{{fs, '.'}, {gs, 'v', '0'}},
		},
		{
			profile: "generic-80mm",
			prefix:  []byte{esc, '@', fs, '.', esc, 'R', 0, esc, 't', 19},
			has:     [][]byte{{gs, '!', 0x33}, store},
		},
		{
			profile: "generic-58mm",
			prefix:  []byte{esc, '@', fs, '.', esc, 'R', 0, esc, 't', 19},
			has:     [][]byte{{gs, '!', 0x33}, {gs, 'v', '0', 0}},
			hasNot:  [][]byte{{gs, '(', 'k'}},
		},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			job := Layout(tk, mustProfile(t, tc.profile))
			if !bytes.HasPrefix(job, tc.prefix) {
				t.Errorf("job starts % X, want % X", job[:len(tc.prefix)], tc.prefix)
			}
			cut := []byte{esc, 'd', 3, gs, 'V', 66, 0}
			if !bytes.HasSuffix(job, cut) {
				t.Errorf("job ends % X, want feed and partial cut % X", job[len(job)-len(cut):], cut)
			}
			for _, s := range tc.has {
				if !bytes.Contains(job, s) {
					t.Errorf("job lacks % X", s)
				}
			}
			for _, s := range tc.hasNot {
				if bytes.Contains(job, s) {
					t.Errorf("job has % X", s)
				}
			}
			if bytes.Contains(job, []byte{dle, eot}) {
				t.Error("job contains DLE EOT: the printer would answer it")
			}
			// The number, at 4×4, then back to 1×1.
			if !bytes.Contains(job, concat([]byte{gs, '!', 0x33, esc, 'E', 1}, []byte("A023\n"))) {
				t.Error("the number is not printed at 4×4")
			}
		})
	}
}

func TestRasterBands(t *testing.T) {
	p := mustProfile(t, "generic-58mm")
	job := NewEncoder(p).QR(referenceTicket().TrackURL).Bytes()
	var rows, bands int
	for i := 0; ; {
		j := bytes.Index(job[i:], []byte{gs, 'v', '0'})
		if j < 0 {
			break
		}
		i += j
		x := int(job[i+4]) | int(job[i+5])<<8
		y := int(job[i+6]) | int(job[i+7])<<8
		if y > 128 {
			t.Errorf("band of %d rows, want ≤ 128", y)
		}
		if x*8 > p.DotsWidth {
			t.Errorf("band %d dots wide, paper is %d", x*8, p.DotsWidth)
		}
		rows += y
		bands++
		i += 8 + x*y
	}
	if bands < 2 || rows < 100 {
		t.Fatalf("%d bands, %d rows: want the QR in several bands", bands, rows)
	}
	if bytes.IndexByte(job, dle) >= 0 {
		t.Error("raster data contains 0x10: DLE EOT could appear")
	}
}

func TestEncodeText(t *testing.T) {
	const accents = "€àèéìòùÀÈÉÌÒÙ«»°ç"
	for _, tc := range []struct {
		name string
		cp   CodePage
		in   string
		want []byte
	}{
		{"pc858 accents", PC858, accents, []byte{0xD5, 0x85, 0x8A, 0x82, 0x8D, 0x95, 0x97, 0xB7, 0xD4, 0x90, 0xDE, 0xE3, 0xEB, 0xAE, 0xAF, 0xF8, 0x87}},
		{"wpc1252 accents", WPC1252, accents, []byte{0x80, 0xE0, 0xE8, 0xE9, 0xEC, 0xF2, 0xF9, 0xC0, 0xC8, 0xC9, 0xCC, 0xD2, 0xD9, 0xAB, 0xBB, 0xB0, 0xE7}},
		{"iso-8859-15 accents", ISO885915, accents, []byte{0xA4, 0xE0, 0xE8, 0xE9, 0xEC, 0xF2, 0xF9, 0xC0, 0xC8, 0xC9, 0xCC, 0xD2, 0xD9, 0xAB, 0xBB, 0xB0, 0xE7}},
		{"ascii", PC858, "A023 @[\\]{|}~", []byte("A023 @[\\]{|}~")},
		{"unencodable", PC858, "中☃ł🙂", []byte("????")},
		{"unencodable 1252", WPC1252, "Ωș", []byte("??")},
		{"typographic", PC858, "“Sì” ‘no’ – — …", []byte(`"S` + "\x8D" + `" 'no' - - ...`)},
		{"controls stripped", PC858, "A\x1b@B\x1d\x56\x00C\x10\x04\x01D\nE\u0085F\u202eG\x7f", []byte("A@BV" + "C" + "DEFG")},
		{"tab to space", PC858, "a\tb", []byte("a b")},
		{"invalid utf-8", PC858, "a\xffb", []byte("a?b")},
		{"never SUB", PC858, "\x1a", []byte{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EncodeText(tc.in, tc.cp)
			if !bytes.Equal(got, tc.want) {
				t.Errorf("EncodeText(%q, %s) = % X, want % X", tc.in, tc.cp.Name, got, tc.want)
			}
			if bytes.IndexByte(got, 0x1A) >= 0 {
				t.Error("output has 0x1A (SUB)")
			}
			for _, b := range got {
				if b < 0x20 || b == 0x7F {
					t.Errorf("output has control byte %02X", b)
				}
			}
		})
	}
}

func TestProfileCodePage(t *testing.T) {
	p := mustProfile(t, "epson-tm-t20").WithCodePage(WPC1252, 16)
	job := NewEncoder(p).Init().Line("€ è").Bytes()
	want := []byte{esc, '@', esc, 'R', 0, esc, 't', 16, 0x80, ' ', 0xE8, lf}
	if !bytes.Equal(job, want) {
		t.Fatalf("got % X, want % X", job, want)
	}
	job = Layout(referenceTicket(), p)
	if !bytes.Contains(job, []byte("personale \xE8 stampato")) {
		t.Error("the privacy line is not in Windows-1252")
	}
}

func TestLookupProfile(t *testing.T) {
	for _, name := range []string{"epson-tm-t20", "generic-80mm", "generic-58mm"} {
		p, err := LookupProfile(name)
		if err != nil || p.Name != name {
			t.Errorf("LookupProfile(%q) = %v, %v", name, p.Name, err)
		}
	}
	want := map[string][3]int{"epson-tm-t20": {576, 48, 1}, "generic-80mm": {576, 48, 1}, "generic-58mm": {384, 32, 0}}
	for name, w := range want {
		p := mustProfile(t, name)
		native := 0
		if p.NativeQR {
			native = 1
		}
		if p.DotsWidth != w[0] || p.Columns != w[1] || native != w[2] || p.CodePageN != 19 {
			t.Errorf("%s: %d dots, %d columns, native QR %v, ESC t %d", name, p.DotsWidth, p.Columns, p.NativeQR, p.CodePageN)
		}
	}
	_, err := LookupProfile("tm-t88")
	if err == nil || !strings.Contains(err.Error(), `"tm-t88"`) || !strings.Contains(err.Error(), "epson-tm-t20, generic-58mm, generic-80mm") {
		t.Errorf("unknown profile error = %v", err)
	}
}

func TestEncoderCommands(t *testing.T) {
	p := mustProfile(t, "epson-tm-t20")
	for _, tc := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"size 2x3", NewEncoder(p).Size(2, 3).Bytes(), []byte{gs, '!', 0x12}},
		{"size clamped", NewEncoder(p).Size(0, 9).Bytes(), []byte{gs, '!', 0x07}},
		{"bold", NewEncoder(p).Bold(true).Bold(false).Bytes(), []byte{esc, 'E', 1, esc, 'E', 0}},
		{"align", NewEncoder(p).Align(AlignRight).Align(AlignLeft).Bytes(), []byte{esc, 'a', 2, esc, 'a', 0}},
		{"feed", NewEncoder(p).Feed(5).Bytes(), []byte{esc, 'd', 5}},
		{"cut", NewEncoder(p).Cut().Bytes(), []byte{esc, 'd', 3, gs, 'V', 66, 0}},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s: got % X, want % X", tc.name, tc.got, tc.want)
		}
	}
}

func TestQRPayloadSanitized(t *testing.T) {
	job := NewEncoder(mustProfile(t, "epson-tm-t20")).QR("a\x10\x04b\n").Bytes()
	want := concat([]byte{gs, '(', 'k', 14, 0, '1', 'P', '0'}, []byte("a%10%04b%0A"))
	if !bytes.Contains(job, want) {
		t.Errorf("got % X, want it to contain % X", job, want)
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  []string
	}{
		{"Anagrafe e stato civile", 10, []string{"Anagrafe e", "stato", "civile"}},
		{"", 10, []string{""}},
		{"abcdefghijkl", 5, []string{"abcde", "fghij", "kl"}},
		{"a  b", 10, []string{"a b"}},
	} {
		if got := wrap(tc.in, tc.width); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}
