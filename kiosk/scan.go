package kiosk

import (
	"strings"
	"unicode"

	"github.com/comune-rc/sportello/hub"
)

// CodeAlphabet is the alphabet of booking codes: no look-alike characters
// (no 0/O, 1/I/L), as hub's bookingCode draws them.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLen is the length of a booking code.
const CodeLen = 8

// MaxScan is the longest input ParseScan reads (a QR code's URL at most).
const MaxScan = 512

func inAlphabet(r rune) bool {
	return r < 128 && strings.IndexByte(CodeAlphabet, byte(r)) >= 0
}

func isAlnum(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// ParseScan extracts a booking code from what a citizen typed or a QR
// scanner "typed": a bare code ("ab3d-7k9m", spaces and dashes ignored,
// any case), a URL or text with a code=XXXXXXXX parameter, or a URL or
// text ending in the code (".../appuntamento/AB3D7K9M"). Control
// characters (a scanner's CR/LF, tabs) are removed first; inputs longer
// than MaxScan characters are refused. The error is a *hub.Error with code
// invalid_code and a message meant for the person at the totem.
func ParseScan(s string) (code string, err error) {
	if len(s) > 4*MaxScan {
		return "", invalidCode("the code is too long: at most %d characters", MaxScan)
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || unicode.Is(unicode.Cf, r) {
			continue
		}
		n++
		b.WriteRune(r)
	}
	if n > MaxScan {
		return "", invalidCode("the code is too long: at most %d characters", MaxScan)
	}
	s = strings.TrimSpace(b.String())
	if s == "" {
		return "", invalidCode("type or scan the booking code")
	}

	// code=XXXXXXXX anywhere, at a word boundary (not "barcode=").
	if v, ok := codeParam(s); ok {
		return normalize(v)
	}
	// A bare code, with spaces and dashes.
	c, bareErr := normalize(s)
	if bareErr == nil {
		return c, nil
	}
	// Text or a URL ending in the code.
	if c, ok := trailingCode(s); ok {
		return c, nil
	}
	if len([]rune(strings.Map(dropSeparators, s))) == CodeLen {
		// Eight characters, but not all from the alphabet: say which.
		return "", bareErr
	}
	return "", invalidCode("this is not a booking code: a code has %d characters, letters and digits", CodeLen)
}

func invalidCode(format string, args ...any) *hub.Error {
	return hub.FieldError("invalid_code", "code", format, args...)
}

func dropSeparators(r rune) rune {
	if r == ' ' || r == '-' || unicode.IsSpace(r) {
		return -1
	}
	return r
}

// asciiUpper upper-cases ASCII letters only, so that no other script's
// letter folds into the alphabet.
func asciiUpper(r rune) rune {
	if r >= 'a' && r <= 'z' {
		return r - 'a' + 'A'
	}
	return r
}

// normalize turns a candidate into a code, or says what is wrong with it.
func normalize(v string) (string, error) {
	v = strings.Map(asciiUpper, strings.Map(dropSeparators, v))
	if len([]rune(v)) != CodeLen {
		return "", invalidCode("a booking code has %d characters", CodeLen)
	}
	for _, r := range v {
		if !inAlphabet(r) {
			return "", invalidCode("a booking code has only the letters and digits %s (no 0, 1, I, L, O)", CodeAlphabet)
		}
	}
	return v, nil
}

// codeParam finds the value of a code= parameter at a word boundary.
func codeParam(s string) (string, bool) {
	lower := strings.ToLower(s)
	from := 0
	for {
		i := strings.Index(lower[from:], "code=")
		if i < 0 {
			return "", false
		}
		i += from
		from = i + len("code=")
		if i > 0 {
			prev := rune(lower[i-1])
			if prev < 128 && (isAlnum(prev) || prev == '_') {
				continue
			}
		}
		v := s[from:]
		if j := strings.IndexAny(v, "&#;? \t"); j >= 0 {
			v = v[:j]
		}
		return strings.ReplaceAll(strings.ReplaceAll(v, "%20", ""), "+", ""), true
	}
}

// trailingCode reads the last CodeLen code characters at the end of s
// (skipping spaces and dashes between them, and trailing slashes and
// dots), and accepts them when what comes before is not a letter or digit.
func trailingCode(s string) (string, bool) {
	rs := []rune(strings.TrimRight(s, " /.-"))
	var got []rune
	i := len(rs) - 1
	for ; i >= 0 && len(got) < CodeLen; i-- {
		r := asciiUpper(rs[i])
		switch {
		case r == ' ' || r == '-':
			continue
		case inAlphabet(r):
			got = append(got, r)
		default:
			return "", false
		}
	}
	if len(got) != CodeLen {
		return "", false
	}
	if i >= 0 && isAlnum(rs[i]) {
		return "", false
	}
	for l, r := 0, len(got)-1; l < r; l, r = l+1, r-1 {
		got[l], got[r] = got[r], got[l]
	}
	return string(got), true
}
