package printer

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"sync"

	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/encoding/charmap"
)

// The renderer's geometry: font A is a 12×24 cell; an empty line (LF, or one
// line of ESC d) advances 30 dots, about Epson's default 1/6 inch.
const (
	cellW          = 12
	cellH          = 24
	lineGap        = 6
	maxRenderWidth = 2048
	// maxRenderHeight bounds the canvas (a ticket is about 1100 dots), so
	// garbage cannot make the renderer allocate without end.
	maxRenderHeight = 8192
)

// escposCodePages maps ESC t n to character sets, in Epson's numbering,
// which the built-in profiles use.
var escposCodePages = map[byte]*charmap.Charmap{
	0:  charmap.CodePage437,
	2:  charmap.CodePage850,
	16: charmap.Windows1252,
	19: charmap.CodePage858,
	40: charmap.ISO8859_15,
}

// Argument counts of the fixed-length ESC and GS commands the renderer
// skips or obeys; anything not listed is skipped as two bytes.
var (
	escArgs = map[byte]int{
		'@': 0, '2': 0, '!': 1, '-': 1, '3': 1, 'E': 1, 'G': 1, 'J': 1, 'M': 1,
		'R': 1, 'V': 1, 'a': 1, 'd': 1, 't': 1, '{': 1, ' ': 1, '=': 1, 'c': 2, 'p': 3,
	}
	gsArgs = map[byte]int{
		'!': 1, 'B': 1, 'H': 1, 'a': 1, 'b': 1, 'f': 1, 'h': 1, 'r': 1, 'w': 1, 'L': 2, 'W': 2,
	}
)

// glyphs caches the dots of every character drawn so far, for all renders:
// rasterizing Go Mono is most of a render's work. Font faces are not safe
// for concurrent use, hence the lock.
var glyphs struct {
	sync.Mutex
	faces [2]font.Face
	err   error
	dots  map[glyphKey][]image.Point
}

// loadFaces opens Go Mono and Go Mono Bold at 20 px, whose advance is the
// 12-dot cell of font A. Called with glyphs locked.
func loadFaces() error {
	if glyphs.faces[0] != nil || glyphs.err != nil {
		return glyphs.err
	}
	for i, ttf := range [][]byte{gomono.TTF, gomonobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err == nil {
			glyphs.faces[i], err = opentype.NewFace(f, &opentype.FaceOptions{Size: 20, DPI: 72, Hinting: font.HintingFull})
		}
		if err != nil {
			glyphs.err = fmt.Errorf("printer: render: font: %w", err)
			return glyphs.err
		}
	}
	glyphs.dots = map[glyphKey][]image.Point{}
	return nil
}

// RenderPNG draws an ESC/POS job as a receipt printer of widthDots would
// print it, and returns the PNG. It understands exactly the commands the
// Encoder emits (ESC @ R t a E d, FS ., GS ! V, GS ( k QR, GS v 0, LF) and
// skips anything else; it never panics on garbage. It exists to let tests,
// the demo and people see tickets without a printer.
func RenderPNG(job []byte, widthDots int) ([]byte, error) {
	img, err := Render(job, widthDots)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("printer: render: %w", err)
	}
	return b.Bytes(), nil
}

// Render is RenderPNG without the PNG encoding.
func Render(job []byte, widthDots int) (*image.Gray, error) {
	if widthDots < 8 || widthDots > maxRenderWidth {
		return nil, fmt.Errorf("printer: render: width %d dots out of range 8-%d", widthDots, maxRenderWidth)
	}
	glyphs.Lock()
	err := loadFaces()
	glyphs.Unlock()
	if err != nil {
		return nil, err
	}
	r := &renderer{w: widthDots}
	r.reset()
	r.run(job)
	r.flush(false)
	return r.image(), nil
}

type glyphKey struct {
	r    rune
	bold bool
}

type cell struct {
	dots []image.Point // the glyph's black dots in its 12×24 cell
	w, h int           // size multipliers
}

// renderer is the state of the imaginary printer.
type renderer struct {
	w   int
	pix []byte // rows of w gray pixels, 0xFF white
	y   int    // next row

	align  Alignment
	bold   bool
	sw, sh int
	cm     *charmap.Charmap
	line   []cell
	lineW  int

	qrModule int
	qrLevel  qrcode.RecoveryLevel
	qrData   []byte
	qrBitmap [][]bool // qrData encoded at qrLevel, made at the first print
}

// reset is ESC @: everything back to the power-on defaults.
func (r *renderer) reset() {
	r.align, r.bold, r.sw, r.sh = AlignLeft, false, 1, 1
	r.cm = charmap.CodePage437
	r.line, r.lineW = r.line[:0], 0
	r.qrModule, r.qrLevel, r.qrData, r.qrBitmap = 3, qrcode.Low, nil, nil
}

// run interprets job. Every branch checks that its bytes are there; a
// truncated command ends the job.
func (r *renderer) run(job []byte) {
	for i := 0; i < len(job) && r.y < maxRenderHeight; {
		c := job[i]
		switch {
		case c == lf:
			r.flush(true)
			i++
		case c == esc:
			i = r.esc(job, i)
		case c == gs:
			i = r.gs(job, i)
		case c == fs:
			i += 2 // FS . and FS & take no argument; others are not emitted
		case c == dle:
			if i+1 < len(job) && (job[i+1] == eot || job[i+1] == 0x05) {
				i += 3 // DLE EOT n, DLE ENQ n: real-time, nothing printed
			} else {
				i += 2
			}
		case c < 0x20 || c == 0x7F:
			i++
		default:
			r.char(r.cm.DecodeByte(c))
			i++
		}
	}
}

func (r *renderer) esc(job []byte, i int) int {
	if i+1 >= len(job) {
		return len(job)
	}
	cmd := job[i+1]
	n, known := escArgs[cmd]
	if !known {
		return i + 2
	}
	if i+2+n > len(job) {
		return len(job)
	}
	var a byte
	if n > 0 {
		a = job[i+2]
	}
	switch cmd {
	case '@':
		r.flush(false)
		r.reset()
	case 't':
		if cm, ok := escposCodePages[a]; ok {
			r.cm = cm
		}
	case 'a':
		switch a {
		case 0, '0':
			r.align = AlignLeft
		case 1, '1':
			r.align = AlignCenter
		case 2, '2':
			r.align = AlignRight
		}
	case 'E':
		r.bold = a&1 == 1
	case 'd':
		r.flush(false)
		r.y += int(a) * (cellH + lineGap)
	case 'J':
		r.flush(false)
		r.y += int(a)
	}
	return i + 2 + n
}

func (r *renderer) gs(job []byte, i int) int {
	if i+1 >= len(job) {
		return len(job)
	}
	switch cmd := job[i+1]; cmd {
	case 'V':
		if i+2 >= len(job) {
			return len(job)
		}
		m := job[i+2]
		r.flush(false)
		r.cut()
		if m == 65 || m == 66 {
			return i + 4
		}
		return i + 3
	case 'v':
		return r.raster(job, i)
	case '(':
		if i+4 >= len(job) {
			return len(job)
		}
		n := int(job[i+3]) | int(job[i+4])<<8
		end := i + 5 + n
		if end > len(job) {
			return len(job)
		}
		if job[i+2] == 'k' {
			r.qr(job[i+5 : end])
		}
		return end
	default:
		n, known := gsArgs[cmd]
		if !known {
			return i + 2
		}
		if i+2+n > len(job) {
			return len(job)
		}
		if cmd == '!' {
			a := job[i+2]
			r.sw, r.sh = int(a>>4&7)+1, int(a&7)+1
		}
		return i + 2 + n
	}
}

// qr handles one GS ( k body: cn fn [args].
func (r *renderer) qr(body []byte) {
	if len(body) < 2 || body[0] != '1' {
		return
	}
	switch body[1] {
	case 'C': // 167: module size
		if len(body) >= 3 {
			r.qrModule = clamp(int(body[2]), 1, 16)
		}
	case 'E': // 169: error correction
		r.qrBitmap = nil
		if len(body) >= 3 {
			switch body[2] {
			case '0':
				r.qrLevel = qrcode.Low
			case '1':
				r.qrLevel = qrcode.Medium
			case '2':
				r.qrLevel = qrcode.High // go-qrcode: Q is "High"
			case '3':
				r.qrLevel = qrcode.Highest
			}
		}
	case 'P': // 180: store
		if len(body) >= 3 {
			r.qrData = append(r.qrData[:0], body[3:]...)
			r.qrBitmap = nil
		}
	case 'Q': // 181: print, with no quiet zone, like the firmware
		if len(r.qrData) == 0 {
			return
		}
		if r.qrBitmap == nil {
			q, err := qrcode.New(string(r.qrData), r.qrLevel)
			if err != nil {
				r.qrData = nil // do not try again at every print
				return
			}
			q.DisableBorder = true
			r.qrBitmap = q.Bitmap()
		}
		bm := r.qrBitmap
		r.flush(false)
		size := len(bm) * r.qrModule
		x0 := r.alignX(size)
		r.grow(size)
		for y := 0; y < size && r.y+y < maxRenderHeight; y++ {
			row := bm[y/r.qrModule]
			for x := 0; x < size; x++ {
				if row[x/r.qrModule] {
					r.set(x0+x, r.y+y)
				}
			}
		}
		r.y += size
	}
	// 165 (model) needs nothing: go-qrcode makes model 2.
}

// raster handles GS v 0 m xL xH yL yH d…; a short image is drawn as far as
// its data goes.
func (r *renderer) raster(job []byte, i int) int {
	if i+8 > len(job) || job[i+2] != '0' {
		return min(i+3, len(job))
	}
	m := job[i+3] & 3
	xb := int(job[i+4]) | int(job[i+5])<<8
	rows := int(job[i+6]) | int(job[i+7])<<8
	data := job[i+8:]
	if xb == 0 || rows == 0 {
		return i + 8
	}
	end := i + 8 + xb*rows
	if avail := len(data) / xb; avail < rows {
		rows, end = avail, len(job)
	}
	dw, dh := 1+int(m&1), 1+int(m>>1)
	r.flush(false)
	x0 := r.alignX(xb * 8 * dw)
	r.grow(rows * dh)
	for y := 0; y < rows && r.y < maxRenderHeight; y++ {
		row := data[y*xb : (y+1)*xb]
		for x := 0; x < xb*8 && x0+x*dw < r.w; x++ {
			if row[x/8]&(0x80>>(x%8)) == 0 {
				continue
			}
			for dy := 0; dy < dh; dy++ {
				for dx := 0; dx < dw; dx++ {
					r.set(x0+x*dw+dx, r.y+dy)
				}
			}
		}
		r.y += dh
	}
	return end
}

// char adds one character to the line buffer, printing the line first
// when the character does not fit, as printers wrap.
func (r *renderer) char(c rune) {
	w := cellW * r.sw
	if r.lineW+w > r.w && len(r.line) > 0 {
		r.flush(false)
	}
	r.line = append(r.line, cell{dots: r.glyph(c, r.bold), w: r.sw, h: r.sh})
	r.lineW += w
}

// flush prints the line buffer. An empty buffer only advances the paper
// when feed is true (an LF on its own).
func (r *renderer) flush(feed bool) {
	if len(r.line) == 0 {
		if feed {
			r.y += cellH + lineGap
		}
		return
	}
	hmax := 1
	for _, c := range r.line {
		hmax = max(hmax, c.h)
	}
	height := hmax*cellH + lineGap
	r.grow(height)
	x := r.alignX(r.lineW)
	for _, c := range r.line {
		top := r.y + (hmax-c.h)*cellH // characters share the baseline
		for _, d := range c.dots {
			for dy := 0; dy < c.h; dy++ {
				for dx := 0; dx < c.w; dx++ {
					r.set(x+d.X*c.w+dx, top+d.Y*c.h+dy)
				}
			}
		}
		x += cellW * c.w
	}
	r.y += height
	r.line, r.lineW = r.line[:0], 0
}

// cut draws a dashed line where the cutter cuts.
func (r *renderer) cut() {
	r.grow(cellH)
	for x := 0; x < r.w; x += 8 {
		for dx := 0; dx < 4; dx++ {
			r.set(x+dx, r.y+cellH/2)
		}
	}
	r.y += cellH
}

func (r *renderer) alignX(width int) int {
	switch r.align {
	case AlignCenter:
		return max(0, (r.w-width)/2)
	case AlignRight:
		return max(0, r.w-width)
	}
	return 0
}

// glyph returns the black dots of c drawn in a 12×24 cell of Go Mono
// (bold: Go Mono Bold), thresholded as a thermal head prints.
func (*renderer) glyph(c rune, bold bool) []image.Point {
	k := glyphKey{c, bold}
	glyphs.Lock()
	defer glyphs.Unlock()
	if g, ok := glyphs.dots[k]; ok {
		return g
	}
	g := image.NewAlpha(image.Rect(0, 0, cellW, cellH))
	face := glyphs.faces[0]
	if bold {
		face = glyphs.faces[1]
	}
	d := font.Drawer{Dst: g, Src: image.Opaque, Face: face, Dot: fixed.P(0, 19)}
	d.DrawString(string(c))
	var dots []image.Point
	for y := 0; y < cellH; y++ {
		for x := 0; x < cellW; x++ {
			if g.AlphaAt(x, y).A >= 0x80 {
				dots = append(dots, image.Pt(x, y))
			}
		}
	}
	glyphs.dots[k] = dots
	return dots
}

// grow makes sure rows y … y+h exist (up to the height limit), white.
func (r *renderer) grow(h int) {
	n := min(r.y+h, maxRenderHeight) * r.w
	old := len(r.pix)
	if n <= old {
		return
	}
	if n > cap(r.pix) {
		grown := make([]byte, old, max(n, 2*cap(r.pix), 1024*r.w))
		copy(grown, r.pix)
		r.pix = grown
	}
	r.pix = r.pix[:n]
	for i := old; i < n; i++ {
		r.pix[i] = 0xFF
	}
}

func (r *renderer) set(x, y int) {
	if x < 0 || x >= r.w || y < 0 || y >= maxRenderHeight {
		return
	}
	if o := y*r.w + x; o < len(r.pix) {
		r.pix[o] = 0
	}
}

// image returns the canvas, cut below the last row used plus a margin.
func (r *renderer) image() *image.Gray {
	h := clamp(r.y+cellH, cellH, maxRenderHeight)
	r.grow(h - r.y)
	return &image.Gray{Pix: r.pix[:h*r.w], Stride: r.w, Rect: image.Rect(0, 0, r.w, h)}
}
