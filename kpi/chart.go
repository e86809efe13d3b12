package kpi

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/comune-rc/sportello/hub"
)

// Bar is one value of a chart, with its label and its text as the tables
// show it.
type Bar struct {
	Label string
	Value Value
	Text  string
}

// Chart is a simple bar or line chart of the report, drawn the same way
// as inline SVG on the pages and with vector primitives in the PDF. Every
// chart comes with its data as a table (the text alternative).
type Chart struct {
	ID    string
	Title hub.Text
	// Desc says in words what the chart shows (its accessible summary).
	Desc hub.Text
	Unit string
	Max  float64
	Bars []Bar
	// Line draws the values as a line (a trend) instead of bars.
	Line bool
	// Ref draws a reference line at that value (0: none).
	Ref      float64
	RefLabel string
}

// niceMax rounds an axis maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// divisions is how many grid steps the axis has: round values for the
// 1–5 scores and percentages, quarters otherwise.
func (c Chart) divisions() int {
	if c.Max == 5 || c.Max == 100 || c.Max == 10 {
		return 5
	}
	return 4
}

// WaitsByHour is the mean wait by hour of arrival.
func (r *Report) WaitsByHour() Chart {
	c := Chart{ID: "waits-by-hour", Unit: "min",
		Title: hub.Text{IT: "Attesa media per ora di arrivo (minuti)", EN: "Mean wait by hour of arrival (minutes)"},
		Desc:  hub.Text{IT: "Barre: attesa media in minuti per ciascuna ora di arrivo.", EN: "Bars: mean wait in minutes for each hour of arrival."}}
	max := 0.0
	for _, h := range r.Hours {
		v := h.MeanWait()
		c.Bars = append(c.Bars, Bar{Label: h.Label.IT, Value: v, Text: Minutes(v)})
		max = math.Max(max, v.V)
	}
	c.Max = niceMax(max)
	return c
}

// ServiceLevelByService is each service's share of visits called within
// its target.
func (r *Report) ServiceLevelByService() Chart {
	c := Chart{ID: "service-level", Unit: "%", Max: 100, Ref: 80, RefLabel: "80%",
		Title: hub.Text{IT: "Livello di servizio per servizio (% chiamati entro l'obiettivo)", EN: "Service level by service (% called within target)"},
		Desc:  hub.Text{IT: "Barre: percentuale di visite chiamate entro il tempo obiettivo del servizio; linea di riferimento all'80%.", EN: "Bars: share of visits called within the service's target wait; reference line at 80%."}}
	for _, s := range r.Services {
		v := s.ServiceLevel()
		c.Bars = append(c.Bars, Bar{Label: s.Label.IT, Value: Value{V: v.V * 100, OK: v.OK}, Text: Percent(v)})
	}
	return c
}

// SatisfactionTrend is the mean score of each day's answers.
func (r *Report) SatisfactionTrend() Chart {
	c := Chart{ID: "satisfaction-trend", Max: 5, Line: true,
		Title: hub.Text{IT: "Andamento della soddisfazione (voto medio 1–5 per giorno)", EN: "Satisfaction trend (mean score 1–5 per day)"},
		Desc:  hub.Text{IT: "Linea: voto medio giornaliero del questionario; i giorni senza risposte non hanno punto.", EN: "Line: daily mean score of the survey; days without answers have no point."}}
	for _, d := range r.Days {
		v := d.Satisfaction()
		c.Bars = append(c.Bars, Bar{Label: d.Key[8:], Value: v, Text: Score(v)})
	}
	return c
}

// Charts are the report's three charts, in the order the pages show them.
func (r *Report) Charts() []Chart {
	return []Chart{r.WaitsByHour(), r.ServiceLevelByService(), r.SatisfactionTrend()}
}

// SVG draws the chart as inline SVG: role img, with its title and
// description, so that a screen reader announces it; the data is in the
// table beside it.
func (c Chart) SVG() template.HTML {
	const w, h, left, bottom, top = 640.0, 260.0, 44.0, 70.0, 12.0
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`, w, h, c.ID, c.ID)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, c.ID, esc(c.Title.IT+" / "+c.Title.EN), c.ID, esc(c.Desc.IT+" "+c.Desc.EN))
	plotW, plotH := w-left-8, h-bottom-top
	y := func(v float64) float64 { return top + plotH - plotH*math.Min(v, c.Max)/c.Max }
	for i, n := 0, c.divisions(); i <= n; i++ {
		v := c.Max * float64(i) / float64(n)
		fmt.Fprintf(&b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="axis" x="%g" y="%.1f" text-anchor="end">%s</text>`,
			left, w-8, y(v), y(v), left-4, y(v)+4, esc(strings.Replace(fmt.Sprintf("%g", v), ".", ",", 1)))
	}
	n := len(c.Bars)
	if n == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%g" y="%g" text-anchor="middle">nessun dato / no data</text></svg>`, w/2, h/2)
		return template.HTML(b.String())
	}
	slotW := plotW / float64(n)
	var pts []string
	for i, bar := range c.Bars {
		x := left + slotW*float64(i)
		cx := x + slotW/2
		if bar.Value.OK {
			if c.Line {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", cx, y(bar.Value.V)))
				fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="3"/>`, cx, y(bar.Value.V))
			} else {
				fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x+slotW*0.15, y(bar.Value.V), slotW*0.7, top+plotH-y(bar.Value.V))
			}
		}
		if n <= 16 || i%2 == 0 {
			fmt.Fprintf(&b, `<text class="label" transform="translate(%.1f %g) rotate(-40)" text-anchor="end">%s</text>`, cx, top+plotH+12, esc(truncate(bar.Label, 22)))
		}
	}
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(pts, " "))
	}
	if c.Ref > 0 {
		fmt.Fprintf(&b, `<line class="ref" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, left, w-8, y(c.Ref), y(c.Ref))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
