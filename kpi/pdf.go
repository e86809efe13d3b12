package kpi

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

const pdfFont = "go"

// pdfDoc is the monthly report being laid out on A4.
type pdfDoc struct {
	f *fpdf.Fpdf
	r *Report
}

// WritePDF writes the report for the management: the key figures, the
// three charts and the tables by service, counter, wait band, hour and
// day — the same figures as the pages (clerks are left out: their figures
// are for supervisors, on the pages). Text is real text, so it can be
// searched and read aloud.
func (r *Report) WritePDF(w io.Writer) error {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCreationDate(r.Generated)
	f.SetModificationDate(r.Generated)
	f.SetTitle(fmt.Sprintf("Sportello Unico — rapporto %s / %s", r.From, r.To), true)
	f.SetAuthor(r.Site.Comune, true)
	f.SetLang("it")
	f.AddUTF8FontFromBytes(pdfFont, "", goregular.TTF)
	f.AddUTF8FontFromBytes(pdfFont, "B", gobold.TTF)
	f.SetMargins(15, 15, 15)
	f.SetAutoPageBreak(true, 15)
	d := &pdfDoc{f: f, r: r}
	f.SetFooterFunc(func() {
		f.SetY(-12)
		f.SetFont(pdfFont, "", 8)
		f.CellFormat(0, 5, fmt.Sprintf("%s — Sportello Unico — %s / %s — pagina %d", r.Site.Comune, r.From, r.To, f.PageNo()), "", 0, "C", false, 0, "")
	})
	f.AddPage()
	d.title()
	d.summary()
	for _, c := range r.Charts() {
		d.chart(c)
	}
	d.serviceTable()
	d.counterTable()
	d.waitBands()
	d.simpleTable("Per ora di arrivo / By hour of arrival", "Ora", r.Hours)
	d.simpleTable("Per giorno / By day", "Giorno", r.Days)
	if err := f.Error(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func (d *pdfDoc) title() {
	f, r := d.f, d.r
	f.SetFont(pdfFont, "B", 15)
	f.MultiCell(0, 7, r.Site.Comune+" — "+r.Site.Name.IT, "", "L", false)
	f.SetFont(pdfFont, "B", 13)
	f.MultiCell(0, 6, "Rapporto su livelli di servizio e soddisfazione", "", "L", false)
	f.SetFont(pdfFont, "", 10)
	f.MultiCell(0, 5, "Service-level and satisfaction report", "", "L", false)
	f.Ln(1)
	f.MultiCell(0, 5, fmt.Sprintf("Periodo / Period: %s – %s", r.From, r.To), "", "L", false)
	f.MultiCell(0, 5, "Generato il / Generated: "+r.Generated.Format("02/01/2006 15:04"), "", "L", false)
	f.Ln(3)
}

func (d *pdfDoc) heading(s string) {
	f := d.f
	if f.GetY() > 250 {
		f.AddPage()
	}
	f.Ln(2)
	f.SetFont(pdfFont, "B", 11)
	f.MultiCell(0, 6, s, "", "L", false)
	f.SetFont(pdfFont, "", 9)
}

// Summary lists the key figures, label and value on one line each.
func (d *pdfDoc) summary() {
	a := d.r.Total
	d.heading("Sintesi / Summary")
	rows := [][2]string{
		{"Visite / Visits", strconv.Itoa(a.Visits)},
		{"Chiamate / Called", strconv.Itoa(a.Called)},
		{"Attesa media (min) / Mean wait", Minutes(a.MeanWait())},
		{"Attesa al 90° percentile (min) / 90th percentile wait", Minutes(a.P90Wait())},
		{"Livello di servizio / Service level", Percent(a.ServiceLevel())},
		{"Servizi conclusi / Services finished", strconv.Itoa(a.Served)},
		{"Durata media del servizio (min) / Mean service time", Minutes(a.MeanService())},
		{"Durata al 90° percentile (min) / 90th percentile service time", Minutes(a.P90Service())},
		{"Mancate presentazioni / No-shows", strconv.Itoa(a.NoShows)},
		{"Trasferimenti / Transfers", strconv.Itoa(a.Transfers)},
		{"Abbandoni / Walk-outs", strconv.Itoa(a.WalkOuts)},
		{"Non serviti a fine giornata / Unserved at closing", strconv.Itoa(a.Unserved)},
		{"Appuntamenti / Appointments", strconv.Itoa(a.Appointments)},
		{"Puntualità degli appuntamenti / Appointment punctuality", Percent(a.Punctuality())},
		{"Risposte al questionario / Survey answers", strconv.Itoa(a.RatingCount())},
		{"Soddisfazione media (1–5) / Mean satisfaction", Score(a.Satisfaction())},
		{"Soddisfatti (4–5) / Satisfied", Percent(a.Satisfied())},
	}
	f := d.f
	for i, row := range rows {
		fill := i%2 == 0
		f.SetFillColor(240, 243, 247)
		f.CellFormat(125, 5.5, row[0], "", 0, "L", fill, 0, "")
		f.CellFormat(55, 5.5, row[1], "", 1, "R", fill, 0, "")
	}
}

// chart draws a chart with vector primitives, its values printed beside
// each bar so the page reads without the picture.
func (d *pdfDoc) chart(c Chart) {
	f := d.f
	const h = 58.0
	if f.GetY()+h+18 > 282 {
		f.AddPage()
	}
	d.heading(c.Title.IT + " / " + c.Title.EN)
	x0, y0 := 30.0, f.GetY()+2
	w := 165.0
	f.SetDrawColor(200, 200, 200)
	f.SetFont(pdfFont, "", 7)
	for i, n := 0, c.divisions(); i <= n; i++ {
		v := c.Max * float64(i) / float64(n)
		y := y0 + h - h*v/c.Max
		f.Line(x0, y, x0+w, y)
		f.Text(x0-9, y+1, decimal(v))
	}
	n := len(c.Bars)
	if n == 0 {
		f.Text(x0+w/2-10, y0+h/2, "nessun dato / no data")
		f.SetY(y0 + h + 6)
		return
	}
	slot := w / float64(n)
	f.SetFillColor(31, 94, 160)
	f.SetDrawColor(31, 94, 160)
	var px, py float64
	havePrev := false
	for i, b := range c.Bars {
		x := x0 + slot*float64(i)
		if b.Value.OK {
			v := b.Value.V
			if v > c.Max {
				v = c.Max
			}
			y := y0 + h - h*v/c.Max
			if c.Line {
				f.Circle(x+slot/2, y, 0.8, "F")
				if havePrev {
					f.Line(px, py, x+slot/2, y)
				}
				px, py, havePrev = x+slot/2, y, true
			} else {
				f.Rect(x+slot*0.15, y, slot*0.7, y0+h-y, "F")
			}
		}
		f.TransformBegin()
		f.TransformRotate(50, x+slot/2, y0+h+3)
		f.Text(x+slot/2-18, y0+h+4, truncate(b.Label, 18))
		f.TransformEnd()
	}
	if c.Ref > 0 {
		f.SetDrawColor(200, 60, 40)
		y := y0 + h - h*c.Ref/c.Max
		f.Line(x0, y, x0+w, y)
	}
	f.SetY(y0 + h + 20)
	// The values, as text.
	f.SetFont(pdfFont, "", 7)
	line := ""
	for _, b := range c.Bars {
		line += b.Label + ": " + b.Text + "   "
	}
	f.MultiCell(0, 3.5, line, "", "L", false)
}

// table writes a header and rows with the given column widths.
func (d *pdfDoc) table(widths []float64, header []string, rows [][]string) {
	f := d.f
	head := func() {
		f.SetFont(pdfFont, "B", 7)
		f.SetFillColor(220, 228, 238)
		for i, h := range header {
			align := "R"
			if i == 0 {
				align = "L"
			}
			f.CellFormat(widths[i], 5, h, "", 0, align, true, 0, "")
		}
		f.Ln(-1)
		f.SetFont(pdfFont, "", 7)
	}
	head()
	for n, row := range rows {
		if f.GetY() > 275 {
			f.AddPage()
			head()
		}
		f.SetFillColor(245, 247, 250)
		for i, c := range row {
			align := "R"
			if i == 0 {
				align = "L"
				c = truncate(c, 30)
			}
			f.CellFormat(widths[i], 4.5, c, "", 0, align, n%2 == 1, 0, "")
		}
		f.Ln(-1)
	}
}

var figureHeader = []string{"Visite", "Attesa m.", "P90", "Liv. serv.", "Durata m.", "No-show", "Trasf.", "Abband.", "Voto"}

func figures(a *Agg) []string {
	return []string{strconv.Itoa(a.Visits), Minutes(a.MeanWait()), Minutes(a.P90Wait()), Percent(a.ServiceLevel()), Minutes(a.MeanService()),
		strconv.Itoa(a.NoShows), strconv.Itoa(a.Transfers), strconv.Itoa(a.WalkOuts), Score(a.Satisfaction())}
}

func (d *pdfDoc) serviceTable() {
	d.heading("Per servizio / By service (attese e durate in minuti / waits and times in minutes)")
	header := append([]string{"Servizio", "Obiettivo"}, figureHeader...)
	widths := []float64{46, 14, 12, 14, 12, 14, 14, 13, 11, 13, 11}
	var rows [][]string
	for _, s := range d.r.Services {
		rows = append(rows, append([]string{s.Label.IT, strconv.Itoa(int(s.Target.Minutes()))}, figures(s.Agg)...))
	}
	d.table(widths, header, rows)
}

func (d *pdfDoc) counterTable() {
	d.heading("Per sportello / By counter")
	header := append([]string{"Sportello"}, figureHeader...)
	widths := []float64{60, 12, 14, 12, 14, 14, 13, 11, 13, 11}
	var rows [][]string
	for _, c := range d.r.Counters {
		rows = append(rows, append([]string{c.Label.IT}, figures(c.Agg)...))
	}
	d.table(widths, header, rows)
}

func (d *pdfDoc) simpleTable(title, first string, rows []Row) {
	d.heading(title)
	header := append([]string{first}, figureHeader...)
	widths := []float64{60, 12, 14, 12, 14, 14, 13, 11, 13, 11}
	var out [][]string
	for _, x := range rows {
		out = append(out, append([]string{x.Label.IT}, figures(x.Agg)...))
	}
	d.table(widths, header, out)
}

func (d *pdfDoc) waitBands() {
	d.heading("Soddisfazione rispetto all'attesa / Satisfaction against wait")
	a := d.r.Total
	var rows [][]string
	for i, b := range WaitBands {
		rows = append(rows, []string{"Attesa " + b.Label, strconv.Itoa(a.RatingsInBand(i)), Score(a.SatisfactionByWait(i))})
	}
	d.table([]float64{60, 30, 30}, []string{"Attesa / Wait", "Risposte", "Voto medio"}, rows)
}
