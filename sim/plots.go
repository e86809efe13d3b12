package sim

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

func clean(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// writePlots writes DIR/<name>-waits.png (mean, p90, p95, p99 wait per
// policy), DIR/<name>-sl15-days.png (per-day SL15 per policy),
// DIR/<name>-ewt.png (EWT MAE per predictor under each policy) and
// DIR/<name>-ewt-calibration.png (predicted against actual wait).
func writePlots(r *Result, dir string) error {
	rows := []string{}
	for _, p := range r.rows() {
		if r.Metrics[p] != nil {
			rows = append(rows, p)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	base := filepath.Join(dir, safeName(r.Scenario.Name))
	grouped := func(title, ylabel string, series []string, val func(m *Metrics, s string) float64, file string) error {
		p := plot.New()
		p.Title.Text = r.Scenario.Name + ": " + title
		p.Y.Label.Text = ylabel
		w := vg.Points(60 / float64(len(series)))
		for i, s := range series {
			vals := make(plotter.Values, len(rows))
			for j, pol := range rows {
				vals[j] = clean(val(r.Metrics[pol], s))
			}
			b, err := plotter.NewBarChart(vals, w)
			if err != nil {
				return err
			}
			b.Color = plotutil.Color(i)
			b.LineStyle.Width = 0
			b.Offset = w * vg.Length(float64(i)-float64(len(series)-1)/2)
			p.Add(b)
			p.Legend.Add(s, b)
		}
		p.Legend.Top = true
		p.NominalX(rows...)
		return p.Save(8*vg.Inch, 4.5*vg.Inch, file)
	}
	if err := grouped("walk-in wait by policy", "minutes", []string{"wait_mean", "wait_p90", "wait_p95", "wait_p99"}, func(m *Metrics, s string) float64 { return m.Values[s] }, base+"-waits.png"); err != nil {
		return err
	}
	if err := grouped("EWT mean absolute error", "minutes", PredNames, func(m *Metrics, s string) float64 { return m.EWT[s].MAE }, base+"-ewt.png"); err != nil {
		return err
	}
	if err := calibrationPlot(r, rows, base+"-ewt-calibration.png"); err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: SL15 per day", r.Scenario.Name)
	p.X.Label.Text = "day"
	p.Y.Label.Text = "SL15 %"
	for i, pol := range rows {
		m := r.Metrics[pol]
		pts := make(plotter.XYs, 0, len(m.DaySL15))
		for d, x := range m.DaySL15 {
			if !math.IsNaN(x) {
				pts = append(pts, plotter.XY{X: float64(d), Y: 100 * x})
			}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		if pol == "P" {
			l.Width = vg.Points(2)
			l.Color = color.Black
		}
		p.Add(l)
		p.Legend.Add(pol, l)
	}
	p.Legend.Left = true
	p.Legend.Top = false
	return p.Save(8*vg.Inch, 4.5*vg.Inch, base+"-sl15-days.png")
}

// calibrationMinN is the fewest tickets a bin of predicted wait needs to be
// drawn: fewer make a noisy point that looks like a finding.
const calibrationMinN = 20

// calibrationPlot draws, under our policy P (or the first policy run), the
// mean actual wait of the tickets against the wait each predictor told
// them, in 2-minute bins: a perfect predictor lies on the diagonal, one
// that promises too little lies above it.
func calibrationPlot(r *Result, rows []string, file string) error {
	pol := rows[0]
	for _, x := range rows {
		if x == "P" {
			pol = x
		}
	}
	m := r.Metrics[pol]
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: predicted against actual wait (policy %s)", r.Scenario.Name, pol)
	p.X.Label.Text = "predicted wait (min)"
	p.Y.Label.Text = "mean actual wait (min)"
	top := 0.0
	for i, name := range PredNames {
		s := m.EWT[name]
		if s == nil {
			continue
		}
		xs, ys := s.Calibration(calibrationMinN)
		if len(xs) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(xs))
		for j := range xs {
			pts[j] = plotter.XY{X: xs[j], Y: ys[j]}
			top = math.Max(top, math.Max(xs[j], ys[j]))
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color, sc.Color = plotutil.Color(i), plotutil.Color(i)
		if name == "P" {
			l.Width = vg.Points(2)
		}
		p.Add(l, sc)
		p.Legend.Add(name, l, sc)
	}
	if top == 0 {
		top = 1
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: top, Y: top}})
	if err != nil {
		return err
	}
	diag.Color = color.Gray{Y: 120}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(diag)
	p.Legend.Add("actual = predicted", diag)
	p.Legend.Top, p.Legend.Left = true, true
	return p.Save(8*vg.Inch, 4.5*vg.Inch, file)
}
