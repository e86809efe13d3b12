package desk

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/kpi"
	"github.com/labstack/echo/v4"
)

// mountReports registers the supervisors' report pages: GET /reports (the
// figures of a period, with charts and their tables), GET
// /reports/export.csv and GET /reports/monthly.pdf (the management's
// monthly PDF, as `sportello report` writes it).
func (p *pages) mountReports(e *echo.Echo) {
	e.GET("/reports", p.reports)
	e.GET("/reports/export.csv", p.reportsCSV)
	e.GET("/reports/monthly.pdf", p.reportsPDF)
}

// reportPeriod reads ?month=YYYY-MM or ?from=&to= (YYYY-MM-DD); the
// default is the current month up to today.
func (p *pages) reportPeriod(c echo.Context) (from, to, month string, err error) {
	loc := p.cfg.Engine.Site().Location()
	now := p.cfg.Engine.Now().In(loc)
	if m := c.QueryParam("month"); m != "" {
		from, to, err = kpi.MonthBounds(m, loc)
		if err != nil {
			return "", "", "", hub.FieldError("invalid_month", "month", "month must be YYYY-MM")
		}
		return from, to, m, nil
	}
	from, to = c.QueryParam("from"), c.QueryParam("to")
	if from == "" && to == "" {
		m := now.Format("2006-01")
		from, _, _ = kpi.MonthBounds(m, loc)
		return from, now.Format("2006-01-02"), m, nil
	}
	f, err1 := time.ParseInLocation("2006-01-02", from, loc)
	t, err2 := time.ParseInLocation("2006-01-02", to, loc)
	switch {
	case err1 != nil:
		return "", "", "", hub.FieldError("invalid_day", "from", "from must be YYYY-MM-DD")
	case err2 != nil:
		return "", "", "", hub.FieldError("invalid_day", "to", "to must be YYYY-MM-DD")
	case t.Before(f):
		return "", "", "", hub.FieldError("invalid_period", "to", "the period ends before it starts")
	case t.Sub(f) > 366*24*time.Hour:
		return "", "", "", hub.FieldError("invalid_period", "to", "a period is at most a year")
	}
	return from, to, f.Format("2006-01"), nil
}

func (p *pages) buildReport(c echo.Context) (*kpi.Report, string, error) {
	if p.cfg.Reports == nil {
		return nil, "", hub.Errorf(hub.KindUnavailable, "reports_unavailable", "the reports are not available on this hub")
	}
	from, to, month, err := p.reportPeriod(c)
	if err != nil {
		return nil, "", err
	}
	rep, err := kpi.Build(p.cfg.Reports, p.cfg.Engine.Site(), from, to, p.cfg.Engine.Now())
	return rep, month, err
}

type reportsData struct {
	pageData
	R      *kpi.Report
	Month  string
	Charts []chartView
	Bands  []bandView
	Error  *hub.Text
}

type chartView struct {
	kpi.Chart
	SVG template.HTML
}

type bandView struct {
	Label   string
	Answers int
	Score   string
}

func (p *pages) reports(c echo.Context) error {
	pr, ok, err := p.gate(c, hub.RoleSupervisor)
	if !ok {
		return err
	}
	d := reportsData{pageData: p.page(c, pr, "reports", hub.Text{IT: "Rapporti", EN: "Reports"})}
	rep, month, err := p.buildReport(c)
	status := http.StatusOK
	if err != nil {
		status = http.StatusBadRequest
		if hub.ErrorKind(err) != hub.KindInvalid {
			status = http.StatusServiceUnavailable
		}
		msg := hub.Text{IT: "Periodo non valido: " + errorMessage(err), EN: "Invalid period: " + errorMessage(err)}
		d.Error = &msg
		return render(c, status, "reports.html", d)
	}
	d.R, d.Month = rep, month
	for _, ch := range rep.Charts() {
		d.Charts = append(d.Charts, chartView{Chart: ch, SVG: ch.SVG()})
	}
	for i, b := range kpi.WaitBands {
		d.Bands = append(d.Bands, bandView{Label: b.Label, Answers: rep.Total.RatingsInBand(i), Score: kpi.Score(rep.Total.SatisfactionByWait(i))})
	}
	return render(c, status, "reports.html", d)
}

func errorMessage(err error) string {
	if he, ok := err.(*hub.Error); ok {
		return he.Message
	}
	return err.Error()
}

func (p *pages) reportsCSV(c echo.Context) error {
	if _, ok, err := p.gate(c, hub.RoleSupervisor); !ok {
		return err
	}
	rep, _, err := p.buildReport(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf, true); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="sportello-%s_%s.csv"`, rep.From, rep.To))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (p *pages) reportsPDF(c echo.Context) error {
	if _, ok, err := p.gate(c, hub.RoleSupervisor); !ok {
		return err
	}
	rep, _, err := p.buildReport(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rep.WritePDF(&buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="sportello-%s_%s.pdf"`, rep.From, rep.To))
	return c.Blob(http.StatusOK, "application/pdf", buf.Bytes())
}
