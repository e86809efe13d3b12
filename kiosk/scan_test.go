package kiosk

import (
	"strings"
	"testing"

	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseScan(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"bare", "AB3D7K9M", "AB3D7K9M"},
		{"lower case", "ab3d7k9m", "AB3D7K9M"},
		{"dashes and spaces", " ab3d-7k9m ", "AB3D7K9M"},
		{"grouped", "AB3D 7K9M", "AB3D7K9M"},
		{"scanner CR LF", "AB3D7K9M\r\n", "AB3D7K9M"},
		{"tab inside", "AB3D\t7K9M", "AB3D7K9M"},
		{"zero-width space", "AB3D\u200b7K9M", "AB3D7K9M"},
		{"query parameter", "https://sportello.comune.reggio-calabria.it/appuntamento?code=AB3D7K9M&lang=it", "AB3D7K9M"},
		{"query parameter lower", "https://x.it/a?lang=it&code=ab3d-7k9m", "AB3D7K9M"},
		{"parameter in text", "Prenotazione CODE=AB3D7K9M valida", "AB3D7K9M"},
		{"fragment after", "https://x.it/a?code=AB3D7K9M#top", "AB3D7K9M"},
		{"url ending in code", "https://x.it/appuntamenti/AB3D7K9M", "AB3D7K9M"},
		{"url ending in code and slash", "https://x.it/appuntamenti/AB3D7K9M/", "AB3D7K9M"},
		{"text ending in code", "Codice di prenotazione: AB3D-7K9M", "AB3D7K9M"},
		{"text ending in spaced code", "Codice: AB3D 7K9M.", "AB3D7K9M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScan(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseScanRejects(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "type or scan"},
		{"only spaces and controls", " \r\n\t ", "type or scan"},
		{"too short", "AB3D7K9", "8 characters"},
		{"too long", "AB3D7K9MX", "not a booking code"},
		{"look-alike zero", "AB3D7K90", "no 0, 1, I, L, O"},
		{"look-alike O", "ABODE234", "no 0, 1, I, L, O"},
		{"look-alike I and L", "IL3D7K9M", "no 0, 1, I, L, O"},
		{"bad parameter", "https://x.it/?code=AB3", "8 characters"},
		{"parameter with bad letters", "https://x.it/?code=AB3D7K9O", "no 0, 1, I, L, O"},
		{"word before code", "XAB3D7K9M", "not a booking code"},
		{"url glued to code", "https://x.it/appuntamentiAB3D7K9M", "not a booking code"},
		{"barcode= is not code=", "barcode=AB3D7K9M1", "not a booking code"},
		{"random text", "buongiorno, vorrei un certificato", "not a booking code"},
		{"over 512 characters", strings.Repeat("a", 600) + " AB3D7K9M", "too long"},
		{"huge", strings.Repeat("é", 5000), "too long"},
		{"cyrillic look-alike", "АВ3D7K9M", "only the letters"},
		{"long s does not fold to S", "ſB3D7K9M", "only the letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScan(tt.in)
			require.Error(t, err, "got %q", got)
			assert.Empty(t, got)
			var he *hub.Error
			require.ErrorAs(t, err, &he)
			assert.Equal(t, "invalid_code", he.Code)
			assert.Equal(t, hub.KindInvalid, he.Kind)
			assert.Contains(t, he.Message, tt.msg)
		})
	}
}

// The cap counts characters after the control characters are gone.
func TestParseScanLengthCap(t *testing.T) {
	padded := strings.Repeat("x", MaxScan-9) + " AB3D7K9M"
	require.Len(t, padded, MaxScan)
	got, err := ParseScan(padded + "\r\n\r\n")
	require.NoError(t, err)
	assert.Equal(t, "AB3D7K9M", got)
	_, err = ParseScan("x" + padded)
	require.Error(t, err)
}

func FuzzParseScan(f *testing.F) {
	for _, s := range []string{"AB3D7K9M", "ab3d-7k9m", "https://x.it/a?code=AB3D7K9M&x=1", "Codice: AB3D 7K9M", "code=", "code=code=AB3D7K9M",
		"AB3D7K90", "\x00\xff\xfe", strings.Repeat("A", 600), "ſſſſſſſſ", "x/" + "ZZZZZZZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseScan(s)
		if err != nil {
			if code != "" {
				t.Fatalf("error %v with code %q", err, code)
			}
			var he *hub.Error
			if !errorAs(err, &he) || he.Code != "invalid_code" {
				t.Fatalf("not an invalid_code error: %v", err)
			}
			return
		}
		if len(code) != CodeLen {
			t.Fatalf("ParseScan(%q) = %q: not %d characters", s, code, CodeLen)
		}
		for _, r := range code {
			if !strings.ContainsRune(CodeAlphabet, r) {
				t.Fatalf("ParseScan(%q) = %q: %q is not in the alphabet", s, code, r)
			}
		}
		// A code parses to itself.
		again, err := ParseScan(code)
		if err != nil || again != code {
			t.Fatalf("ParseScan(%q) = %q, %v", code, again, err)
		}
	})
}

func errorAs(err error, target **hub.Error) bool {
	he, ok := err.(*hub.Error)
	if ok {
		*target = he
	}
	return ok
}

func TestTrackTokenOf(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"https://sportello.example/t/abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz", true},
		{"http://10.0.0.5:8080/t/mfrggzdfmztwq2lk\r\n", "mfrggzdfmztwq2lk", true},
		{"https://x/t/mfrggzdfmztwq2lk?utm=1", "mfrggzdfmztwq2lk", true},
		{"https://x/t/short", "", false},
		{"https://x/t/UPPERCASEISNOTATOKEN", "", false},
		{"AB3D7K9M", "", false},
		{"https://prenota.example/a?code=ab3d7k9m", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := TrackTokenOf(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("TrackTokenOf(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzTrackTokenOf(f *testing.F) {
	for _, s := range []string{"https://x/t/mfrggzdfmztwq2lk", "/t/", "/t/" + strings.Repeat("a", 70), "code=AB3D7K9M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := TrackTokenOf(s)
		if !ok {
			return
		}
		if len(tok) < 16 || len(tok) > 64 || strings.Trim(tok, "abcdefghijklmnopqrstuvwxyz234567") != "" || !strings.Contains(s, "/t/"+tok) {
			t.Fatalf("TrackTokenOf(%q) = %q", s, tok)
		}
	})
}
