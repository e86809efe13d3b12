package printer

import (
	"bytes"
	"strings"
	"unicode"

	qrcode "github.com/skip2/go-qrcode"
)

// ESC/POS command bytes.
const (
	lf  = 0x0A
	dle = 0x10
	eot = 0x04
	esc = 0x1B
	fs  = 0x1C
	gs  = 0x1D
)

// Alignment is the justification set with ESC a.
type Alignment byte

const (
	AlignLeft   Alignment = 0
	AlignCenter Alignment = 1
	AlignRight  Alignment = 2
)

// maxNativeQR is the largest GS ( k payload any supported firmware takes
// (Epson: 7089 numeric; HPRT: under 1021 bytes). Sportello's URLs are under
// 100 bytes; anything longer is printed as text instead.
const maxNativeQR = 1000

// Encoder builds one ESC/POS job in memory for one printer profile.
//
// It only emits commands from a small, well-understood subset (the same one
// the renderer understands), and it guarantees that the job never contains
// the bytes 10 04 (DLE EOT): printers execute DLE EOT wherever it appears,
// even inside text or image data, and an unsolicited status reply would be
// taken for the answer to the next status request. Text is stripped of
// control characters and QR payloads of non-printable bytes; raster modules
// are at least two dots wide, so no raster byte can be 0x10 (an isolated dot).
type Encoder struct {
	buf bytes.Buffer
	p   Profile
}

// NewEncoder returns an empty encoder for p.
func NewEncoder(p Profile) *Encoder {
	return &Encoder{p: p.normalized()}
}

// normalized fills in what a hand-made profile left zero.
func (p Profile) normalized() Profile {
	if p.DotsWidth <= 0 {
		p.DotsWidth = 576
	}
	if p.Columns <= 0 {
		p.Columns = p.DotsWidth / cellW
	}
	if p.CodePage.Charmap == nil {
		p.CodePage, p.CodePageN = PC858, 19
	}
	if p.QRModule < 2 {
		p.QRModule = 6
	}
	if p.QRModule > 16 {
		p.QRModule = 16
	}
	return p
}

// Bytes returns the job built so far. The slice aliases the encoder's buffer.
func (e *Encoder) Bytes() []byte { return e.buf.Bytes() }

// Init resets the printer (ESC @), leaves Chinese mode when the profile needs
// it (FS ., repeated after every ESC @ because some firmware re-enters it),
// selects the USA character set (ESC R 0: ESC R 6 "Italy" remaps @ [ \ ] { }
// and breaks URLs) and the profile's code page (ESC t n).
func (e *Encoder) Init() *Encoder {
	e.buf.Write([]byte{esc, '@'})
	if e.p.NeedsFSDot {
		e.buf.Write([]byte{fs, '.'})
	}
	e.buf.Write([]byte{esc, 'R', 0})
	e.buf.Write([]byte{esc, 't', e.p.CodePageN})
	return e
}

// Text writes s in the profile's code page, without a line feed.
func (e *Encoder) Text(s string) *Encoder {
	e.buf.Write(EncodeText(s, e.p.CodePage))
	return e
}

// Line writes s followed by LF.
func (e *Encoder) Line(s string) *Encoder {
	e.Text(s)
	e.buf.WriteByte(lf)
	return e
}

// Size sets the character size with GS !, w and h from 1 to 8 (clamped).
func (e *Encoder) Size(w, h int) *Encoder {
	e.buf.Write([]byte{gs, '!', sizeByte(w, h)})
	return e
}

func sizeByte(w, h int) byte {
	return byte((clamp(w, 1, 8)-1)<<4 | (clamp(h, 1, 8) - 1))
}

// Bold turns emphasis on or off with ESC E (not the legacy ESC !, which also
// resets the size).
func (e *Encoder) Bold(on bool) *Encoder {
	var n byte
	if on {
		n = 1
	}
	e.buf.Write([]byte{esc, 'E', n})
	return e
}

// Align sets the justification with ESC a; printers apply it only at the
// start of a line, so call it right after Init or a Line.
func (e *Encoder) Align(a Alignment) *Encoder {
	if a > AlignRight {
		a = AlignLeft
	}
	e.buf.Write([]byte{esc, 'a', byte(a)})
	return e
}

// Feed prints the buffer and feeds n lines (ESC d n), n from 0 to 255.
func (e *Encoder) Feed(n int) *Encoder {
	e.buf.Write([]byte{esc, 'd', byte(clamp(n, 0, 255))})
	return e
}

// Cut feeds three lines, since the cutter sits above the print head, then
// makes a partial cut with GS V 66 0 (feed to the cutter, then cut), the
// form that Epson and the clones all take.
func (e *Encoder) Cut() *Encoder {
	e.Feed(3)
	e.buf.Write([]byte{gs, 'V', 66, 0})
	return e
}

// QR prints data as a QR code (ECC level M) centred on its own lines: with
// GS ( k on printers that have it, else as a raster image made with
// go-qrcode. Non-printable bytes in data are percent-encoded (URLs stay
// valid, and the payload stays ASCII as the manuals ask). A payload too long
// for a QR code, or too wide for the paper, is printed as text.
func (e *Encoder) QR(data string) *Encoder {
	data = qrPayload(data)
	if data == "" {
		return e
	}
	if e.p.NativeQR {
		if len(data) <= maxNativeQR {
			e.nativeQR(data)
			return e
		}
	} else if e.rasterQR(data) {
		return e
	}
	return e.Align(AlignCenter).Line(data)
}

// nativeQR emits GS ( k: model 2 (fn 165), module size (167), ECC M (169),
// store (180, pL + pH×256 = k + 3) and print (181). The firmware adds no
// quiet zone, so the symbol gets an empty line above and below.
func (e *Encoder) nativeQR(data string) {
	e.Align(AlignCenter)
	e.buf.WriteByte(lf)
	e.buf.Write([]byte{gs, '(', 'k', 4, 0, '1', 'A', '2', 0})
	e.buf.Write([]byte{gs, '(', 'k', 3, 0, '1', 'C', byte(e.p.QRModule)})
	e.buf.Write([]byte{gs, '(', 'k', 3, 0, '1', 'E', '1'})
	n := len(data) + 3
	e.buf.Write([]byte{gs, '(', 'k', byte(n), byte(n >> 8), '1', 'P', '0'})
	e.buf.WriteString(data)
	e.buf.Write([]byte{gs, '(', 'k', 3, 0, '1', 'Q', '0'})
	e.buf.WriteByte(lf)
}

// rasterBand is the most rows sent in one GS v 0: firmware limits vary
// (Epson ≤ 8×256 per yH, Cino 343 rows), 128 is safe everywhere.
const rasterBand = 128

// rasterQR emits the QR as GS v 0 images in bands of at most 128 rows. The
// bitmap includes go-qrcode's 4-module quiet zone; it is centred by padding
// it with white bytes on the left, under ESC a 0, because not every model
// applies ESC a to raster images. It reports false when the code does not
// fit.
func (e *Encoder) rasterQR(data string) bool {
	q, err := qrcode.New(data, qrcode.Medium)
	if err != nil {
		return false
	}
	bm := q.Bitmap()
	mod := e.p.QRModule
	for mod > 2 && len(bm)*mod > e.p.DotsWidth {
		mod--
	}
	dots := len(bm) * mod
	if dots > e.p.DotsWidth {
		return false
	}
	pad := (e.p.DotsWidth - dots) / 2 / 8 // whole white bytes on the left
	rowBytes := pad + (dots+7)/8

	row := make([]byte, rowBytes)
	rowFor := func(y int) []byte {
		clear(row)
		src := bm[y/mod]
		for x := 0; x < dots; x++ {
			if src[x/mod] {
				bit := pad*8 + x
				row[bit/8] |= 0x80 >> (bit % 8)
			}
		}
		return row
	}

	e.Align(AlignLeft)
	for y0 := 0; y0 < dots; y0 += rasterBand {
		h := min(rasterBand, dots-y0)
		e.buf.Write([]byte{gs, 'v', '0', 0, byte(rowBytes), byte(rowBytes >> 8), byte(h), byte(h >> 8)})
		for y := y0; y < y0+h; y++ {
			e.buf.Write(rowFor(y))
		}
	}
	e.Align(AlignCenter)
	return true
}

// qrPayload keeps printable ASCII and percent-encodes every other byte.
func qrPayload(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7F {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// typographic maps the punctuation that word processors and CMSs produce to
// the ASCII a receipt can print. Everything else outside the code page
// becomes '?'.
var typographic = map[rune]string{
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'",
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`,
	'–': "-", '—': "-", '‒': "-", '―': "-", '−': "-", '‐': "-", '‑': "-",
	'…':      "...",
	'\u00A0': " ", '\u2002': " ", '\u2003': " ", '\u2009': " ", '\u202F': " ",
	'\t': " ",
}

// EncodeText converts s to the bytes of cp, rune by rune.
//
// Control characters (C0, DEL, C1, and Unicode format characters such as
// bidi overrides) are dropped, so text from the hub can never smuggle a
// command into the job. Typographic quotes, dashes and the ellipsis are
// folded to ASCII. Any other rune the code page lacks becomes '?': the
// x/text encoder's own replacement is 0x1A (SUB), which printers show as a
// box or swallow.
func EncodeText(s string, cp CodePage) []byte {
	cm := cp.Charmap
	if cm == nil {
		cm = PC858.Charmap
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if f, ok := typographic[r]; ok {
			out = append(out, f...)
			continue
		}
		if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if r == unicode.ReplacementChar {
			out = append(out, '?')
			continue
		}
		b, ok := cm.EncodeRune(r)
		if !ok || b < 0x20 || b == 0x7F {
			out = append(out, '?')
			continue
		}
		out = append(out, b)
	}
	return out
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
