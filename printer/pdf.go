package printer

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Appointment is a booked visit, as the web channel confirms it.
type Appointment struct {
	Comune, Office     string
	Code               string // the booking code the citizen shows or scans
	Service, ServiceEN string
	Slot               time.Time // printed as given (Europe/Rome)
	CheckInURL         string    // the QR's payload; the Code when empty
	Notes              string    // what to bring; a default line when empty
}

// DefaultBring is the "what to bring" line of an appointment without Notes.
const DefaultBring = "un documento di identità valido / a valid identity document"

// TicketPDF returns the ticket as an A6 PDF with the same content as the
// paper one, for citizens who take a number from the web.
func TicketPDF(t Ticket) ([]byte, error) {
	d := newDoc(t.IssuedAt)
	ls := langs(t.Lang)
	d.header(t.Comune, t.Office)
	d.text(9, false, labelNumber.in(ls[0])+" / "+labelNumber.in(ls[1]))
	d.text(44, true, t.Number)
	d.services(ls, t.Service, t.ServiceEN)
	if !t.IssuedAt.IsZero() {
		day, hm := t.IssuedAt.Format("02/01/2006"), t.IssuedAt.Format("15:04")
		for _, l := range ls {
			d.text(9, false, fmt.Sprintf(labelIssued.in(l), day, hm))
		}
	}
	if t.Position > 0 {
		d.text(9, false, fmt.Sprintf(labelPosition.in(ls[0])+" / "+labelPosition.in(ls[1]), t.Position, t.Position))
	}
	switch {
	case t.EWTMin == 0:
		d.text(9, false, labelWaitNone.in(ls[0])+" / "+labelWaitNone.in(ls[1]))
	case t.EWTMin > 0:
		d.text(9, false, fmt.Sprintf(labelWait.in(ls[0])+" / "+labelWait.in(ls[1]), t.EWTMin, t.EWTMin))
	}
	if t.TrackURL != "" {
		if err := d.qr(t.TrackURL, 34); err != nil {
			return nil, err
		}
		d.text(8, false, labelTrack.in(ls[0])+" / "+labelTrack.in(ls[1]))
	}
	privacy := t.Privacy
	if privacy == "" {
		privacy = DefaultPrivacy
	}
	d.gap(2)
	d.text(7, false, privacy)
	return d.bytes("Biglietto "+t.Number, t.Comune)
}

// AppointmentPDF returns the confirmation of a booking as an A6 PDF: the
// code large, the service, when and where, the QR to scan at the totem and
// what to bring, each in Italian then English.
func AppointmentPDF(a Appointment) ([]byte, error) {
	d := newDoc(a.Slot)
	d.header(a.Comune, a.Office)
	d.text(9, false, "Codice di prenotazione / Booking code")
	d.text(30, true, a.Code)
	d.services(langs("it"), a.Service, a.ServiceEN)
	if !a.Slot.IsZero() {
		d.text(10, true, italianDate(a.Slot))
		d.text(9, false, englishDate(a.Slot))
	}
	if a.Office != "" {
		d.text(9, false, "Dove / Where: "+a.Office)
	}
	payload := a.CheckInURL
	if payload == "" {
		payload = a.Code
	}
	if payload != "" {
		if err := d.qr(payload, 30); err != nil {
			return nil, err
		}
		d.text(8, false, "All'arrivo inquadri il QR al totem / On arrival, scan the QR at the totem")
	}
	bring := a.Notes
	if bring == "" {
		bring = DefaultBring
	}
	d.gap(1)
	d.text(8, false, "Cosa portare / What to bring: "+bring)
	return d.bytes("Prenotazione "+a.Code, a.Comune)
}

// doc is an A6 page laid out top to bottom in centred lines.
type doc struct {
	f  *fpdf.Fpdf
	qn int // QR images registered
}

const (
	pdfFont   = "go"
	pdfMargin = 8.0 // mm
)

// newDoc starts an A6 page with Go Regular and Go Bold, TrueType fonts with
// every Latin-1 letter and €, embedded as UTF-8 fonts so accents print
// right. The dates are fixed to when, so the same input gives the same PDF.
func newDoc(when time.Time) *doc {
	f := fpdf.New("P", "mm", "A6", "")
	if when.IsZero() {
		when = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	f.SetCreationDate(when)
	f.SetModificationDate(when)
	f.SetCatalogSort(true)
	f.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	f.SetAutoPageBreak(true, pdfMargin)
	f.AddUTF8FontFromBytes(pdfFont, "", goregular.TTF)
	f.AddUTF8FontFromBytes(pdfFont, "B", gobold.TTF)
	f.AddPage()
	return &doc{f: f}
}

func (d *doc) header(comune, office string) {
	if comune != "" {
		d.text(12, true, comune)
	}
	if office != "" {
		d.text(9, false, office)
	}
	d.gap(3)
}

func (d *doc) services(ls [2]string, it, en string) {
	byLang := map[string]string{"it": it, "en": en}
	first := byLang[ls[0]]
	if first == "" {
		first = byLang[ls[1]]
	}
	d.gap(1)
	d.text(12, true, first)
	if second := byLang[ls[1]]; second != "" && second != first {
		d.text(10, false, second)
	}
	d.gap(2)
}

// text writes s centred, wrapped to the page, at size points.
func (d *doc) text(size float64, bold bool, s string) {
	style := ""
	if bold {
		style = "B"
	}
	d.f.SetFont(pdfFont, style, size)
	d.f.MultiCell(0, size*0.45, strings.TrimSpace(s), "", "C", false)
}

func (d *doc) gap(mm float64) { d.f.Ln(mm) }

// qr draws payload as a QR code side mm wide, centred, with go-qrcode's
// quiet zone.
func (d *doc) qr(payload string, side float64) error {
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("printer: pdf: qr: %w", err)
	}
	img, err := q.PNG(-10)
	if err != nil {
		return fmt.Errorf("printer: pdf: qr: %w", err)
	}
	d.qn++
	name := fmt.Sprintf("qr%d", d.qn)
	d.f.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(img))
	pageW, _ := d.f.GetPageSize()
	y := d.f.GetY() + 1
	d.f.ImageOptions(name, (pageW-side)/2, y, side, side, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	d.f.SetY(y + side + 1)
	return nil
}

func (d *doc) bytes(title, author string) ([]byte, error) {
	d.f.SetTitle(title, true)
	d.f.SetAuthor(author, true)
	d.f.SetCreator("Sportello", false)
	var b bytes.Buffer
	if err := d.f.Output(&b); err != nil {
		return nil, fmt.Errorf("printer: pdf: %w", err)
	}
	return b.Bytes(), nil
}

var (
	itWeekdays = [...]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
	itMonths   = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}
)

// italianDate is "lunedì 2 marzo 2026, ore 09:30".
func italianDate(t time.Time) string {
	return fmt.Sprintf("%s %d %s %d, ore %s", itWeekdays[t.Weekday()], t.Day(), itMonths[t.Month()-1], t.Year(), t.Format("15:04"))
}

// englishDate is "Monday 2 March 2026 at 09:30".
func englishDate(t time.Time) string {
	return t.Format("Monday 2 January 2006") + " at " + t.Format("15:04")
}
