package httpapi

import (
	"embed"
	"html/template"
	"net/http"
	"strconv"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html
var templateFS embed.FS

// templates are parsed once at start; a broken template fails the build's
// tests, not a citizen's request.
var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// PageLink is one entry of the index page.
type PageLink struct {
	Title string
	URL   string
	Note  string
}

type indexData struct {
	Site    *hub.Site
	Version string
	Demo    bool
	Groups  []PageGroup
}

// PageGroup is a titled list of links.
type PageGroup struct {
	Title string
	Links []PageLink
}

// DemoLinks lists every page of the office, with device tokens in demo
// mode; `sportello demo` prints the same list.
func DemoLinks(site *hub.Site, base string, demo bool) []PageGroup {
	tok := func(t string) string {
		if demo {
			return "?token=" + t
		}
		return ""
	}
	g := []PageGroup{{Title: "Personale / Staff", Links: []PageLink{
		{Title: "Sportello (desk)", URL: base + "/desk", Note: "clerk01…clerk18 / demo"},
		{Title: "Supervisore", URL: base + "/supervisor", Note: "supervisor / demo"},
		{Title: "Amministrazione / Admin", URL: base + "/admin", Note: "admin / demo"},
		{Title: "Rapporti / Reports", URL: base + "/reports", Note: "supervisor / demo"},
	}}}
	var totems, displays []PageLink
	for i, t := range site.Totems {
		totems = append(totems, PageLink{Title: "Totem " + t.ID, URL: base + "/kiosk/" + t.ID + tok("demo-totem-"+itoa(i+1))})
	}
	for i, d := range site.Displays {
		displays = append(displays, PageLink{Title: "Schermo / Display " + d.ID, URL: base + "/display/" + d.ID + tok("demo-display-"+itoa(i+1))})
	}
	if len(site.Displays) > 0 && len(site.Counters) > 0 {
		// The counter's feedback screen takes any device token (or a
		// clerk's login).
		displays = append(displays, PageLink{Title: "Valutazione allo sportello / Counter feedback " + site.Counters[0].ID,
			URL: base + "/feedback/" + site.Counters[0].ID + tok("demo-display-1")})
	}
	g = append(g, PageGroup{Title: "Totem", Links: totems}, PageGroup{Title: "Schermi / Displays", Links: displays})
	g = append(g, PageGroup{Title: "API", Links: []PageLink{
		{Title: "OpenAPI", URL: base + "/api/v1/openapi.yaml"},
		{Title: "Servizi / Services", URL: base + "/api/v1/services"},
		{Title: "Sportelli / Counters", URL: base + "/api/v1/counters"},
		{Title: "Code / Queue", URL: base + "/api/v1/queue"},
		{Title: "Live feed (WebSocket)", URL: base + "/api/v1/live"},
		{Title: "Metrics", URL: base + "/metrics"},
		{Title: "Health", URL: base + "/healthz"},
	}})
	return g
}

func itoa(i int) string { return strconv.Itoa(i) }

func (s *Server) index(c echo.Context) error {
	return s.render(c, "index.html", indexData{Site: s.eng.Site(), Version: s.cfg.Version, Demo: s.cfg.Demo, Groups: DemoLinks(s.eng.Site(), "", s.cfg.Demo)})
}

func (s *Server) render(c echo.Context, name string, data any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(http.StatusOK)
	return templates.ExecuteTemplate(c.Response(), name, data)
}
