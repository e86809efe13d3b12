// Package httpapi is the hub's HTTP transport: the JSON API of the public
// contract, the live feed and the hub's own pages, on Echo. It speaks the
// hub's domain and maps its coded errors to problem documents in one place.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/comune-rc/sportello/assets"
	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

// Config is what the API needs.
type Config struct {
	Engine   *hub.Engine
	Accounts *hub.Accounts
	// Backup writes a consistent copy of the store (admin endpoint).
	Backup func(w io.Writer) (int64, error)
	// PublicURL is the base of track_url links.
	PublicURL string
	Version   string
	Demo      bool
	Logger    *slog.Logger
	// LiveBuffer is each live-feed client's buffer (events); a client that
	// falls this far behind is dropped. Default 256.
	LiveBuffer int
	// PingInterval and WriteTimeout tune the live-feed sockets.
	PingInterval time.Duration
	WriteTimeout time.Duration
	// Mount adds routes of other packages (kiosk, display, desk pages).
	Mount []func(e *echo.Echo)
	// CzRM, when set, reports the CzRM sync's backlog for /metrics.
	CzRM func() CzRMHealth
}

// Server is the HTTP side of the hub.
type Server struct {
	cfg      Config
	echo     *echo.Echo
	log      *slog.Logger
	eng      *hub.Engine
	acc      *hub.Accounts
	live     *liveStats
	totems   totemRegistry
	displays displayRegistry
}

// New builds the server and its route table.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LiveBuffer <= 0 {
		cfg.LiveBuffer = 256
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 20 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	s := &Server{cfg: cfg, echo: echo.New(), log: cfg.Logger.With("component", "http"), eng: cfg.Engine, acc: cfg.Accounts, live: &liveStats{}}
	e := s.echo
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.recoverer, s.authenticate)
	s.routes()
	for _, m := range cfg.Mount {
		m(e)
	}
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo exposes the router so that page packages can mount their routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", s.metrics)
	e.GET("/", s.index)
	e.GET("/qr.png", s.qrPNG)
	e.GET(assets.Prefix+"*", echo.WrapHandler(assets.Handler()))

	api := e.Group("/api/v1")
	api.GET("/openapi.yaml", s.openapi)
	api.POST("/auth/login", s.login)
	api.POST("/auth/logout", s.logout, s.need(hub.RoleClerk))
	api.GET("/auth/me", s.me)
	api.GET("/services", s.services)
	api.GET("/counters", s.counters)
	api.GET("/counters/:id", s.counter)
	api.GET("/queue", s.queue)
	api.GET("/live", s.liveFeed)
	api.GET("/track/:token", s.track)
	api.POST("/track/:token/cancel", s.trackCancel)
	api.POST("/track/:token/rating", s.trackRating)
	api.GET("/feedback/:id", s.feedback, s.feedbackAccess)
	api.POST("/feedback/:id", s.rateAtCounter, s.feedbackAccess)
	api.GET("/totems", s.totemList, s.need(hub.RoleSupervisor))
	api.GET("/displays", s.displayList, s.need(hub.RoleSupervisor))
	api.POST("/displays/:id/heartbeat", s.displayHeartbeat)
	api.GET("/notice", s.notice)
	api.PUT("/notice", s.setNotice, s.need(hub.RoleSupervisor))
	api.GET("/totems/:id/jobs", s.totemJobs)
	api.POST("/totems/:id/help", s.totemHelp, s.needTotemOr(hub.RoleClerk))

	api.POST("/tickets", s.issue, s.needTotemOr(hub.RoleClerk))
	api.GET("/tickets", s.listTickets, s.need(hub.RoleClerk))
	api.GET("/tickets/:id", s.ticket, s.need(hub.RoleClerk))
	api.POST("/tickets/:id/cancel", s.cancel, s.need(hub.RoleClerk))
	api.POST("/tickets/:id/reprint", s.reprint, s.need(hub.RoleClerk))

	c := api.Group("/counters/:id", s.need(hub.RoleClerk))
	c.POST("/open", s.openCounter)
	c.POST("/close", s.closeCounter)
	c.POST("/pause", s.pauseCounter)
	c.POST("/call-next", s.callNext)
	c.POST("/call", s.callTicket)
	c.POST("/recall", s.recall)
	c.POST("/start", s.start)
	c.POST("/finish", s.finish)
	c.POST("/no-show", s.noShow)
	c.POST("/transfer", s.transfer)
	c.POST("/park", s.park)
	c.POST("/add-service", s.addService)

	api.PUT("/counters/:id/services", s.setServices, s.need(hub.RoleSupervisor))
	api.POST("/counters/:id/force-close", s.forceClose, s.need(hub.RoleSupervisor))
	api.POST("/day/close", s.endOfDay, s.need(hub.RoleSupervisor))
	api.GET("/audit", s.audit, s.need(hub.RoleSupervisor))
	api.GET("/audit/logins", s.logins, s.need(hub.RoleAdmin))

	api.POST("/reports", s.fileReport, s.needTotemOr(hub.RoleClerk))
	api.GET("/reports/:protocol", s.report, s.need(hub.RoleClerk))
	api.POST("/appointments", s.appointmentByHand, s.need(hub.RoleClerk))
	api.GET("/appointments/:code", s.appointment, s.need(hub.RoleClerk))
	api.POST("/appointments/:code/cancel", s.cancelAppointment, s.need(hub.RoleClerk))
	api.GET("/appointments/:code/pdf", s.appointmentPDF)
	api.GET("/slots", s.slots)
	api.POST("/bookings", s.book, s.need(hub.RoleClerk))
	api.POST("/virtual-queue", s.joinQueue, s.need(hub.RoleClerk))

	api.GET("/admin/backup", s.backup, s.need(hub.RoleAdmin))
	api.GET("/admin/users", s.users, s.need(hub.RoleAdmin))
	api.PUT("/admin/users", s.putUser, s.need(hub.RoleAdmin))
	api.PATCH("/admin/users/:username", s.patchUser, s.need(hub.RoleAdmin))
	api.POST("/admin/devices", s.enrollDevice, s.need(hub.RoleAdmin))
	api.PUT("/admin/services/:id", s.putService, s.need(hub.RoleAdmin))
	api.PUT("/admin/counters/:id", s.putCounter, s.need(hub.RoleAdmin))
}

// Shutdown stops accepting requests and waits for running ones.
func (s *Server) Shutdown(ctx context.Context) error { return s.echo.Shutdown(ctx) }

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}
