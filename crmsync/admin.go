package crmsync

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/labstack/echo/v4"
)

// Mount adds the admin routes of the worker to the hub's API (admin role
// only, but the status is open to supervisors too: their console shows
// it; errors are *hub.Error values the hub maps to problem documents):
//
//	GET  /api/v1/admin/crmsync                   Status (supervisor+)
//	GET  /api/v1/admin/crmsync/pending           the lanes waiting
//	GET  /api/v1/admin/crmsync/dead              the dead letters
//	POST /api/v1/admin/crmsync/dead/{seq}/replay replay one
//	POST /api/v1/admin/crmsync/dead/{seq}/discard {"reason"}: drop one
//	POST /api/v1/admin/crmsync/reconcile         {"day"} (default today): reconcile now
func Mount(w *Worker) func(*echo.Echo) {
	return func(e *echo.Echo) {
		e.GET("/api/v1/admin/crmsync", func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "no-store")
			return c.JSON(http.StatusOK, w.Status())
		}, atLeast(hub.RoleSupervisor))
		g := e.Group("/api/v1/admin/crmsync", atLeast(hub.RoleAdmin))
		g.GET("/pending", func(c echo.Context) error {
			ps, err := w.Pending()
			if err != nil {
				return internal(err)
			}
			if ps == nil {
				ps = []Pending{}
			}
			return c.JSON(http.StatusOK, ps)
		})
		g.GET("/dead", func(c echo.Context) error {
			ds, err := w.DeadLetters()
			if err != nil {
				return internal(err)
			}
			if ds == nil {
				ds = []DeadLetter{}
			}
			return c.JSON(http.StatusOK, ds)
		})
		g.POST("/dead/:seq/replay", func(c echo.Context) error {
			seq, err := seqParam(c)
			if err != nil {
				return err
			}
			if err := readBody(c, &struct{}{}, true); err != nil {
				return err
			}
			d, err := w.Replay(seq)
			if err != nil {
				return coded(err)
			}
			return c.JSON(http.StatusOK, d)
		})
		g.POST("/dead/:seq/discard", func(c echo.Context) error {
			seq, err := seqParam(c)
			if err != nil {
				return err
			}
			var body struct {
				Reason string `json:"reason"`
			}
			if err := readBody(c, &body, false); err != nil {
				return err
			}
			if strings.TrimSpace(body.Reason) == "" || len(body.Reason) > 500 {
				return hub.FieldError("invalid_reason", "reason", "say why the dead letter is discarded (1-500 characters)")
			}
			d, err := w.Discard(seq, body.Reason)
			if err != nil {
				return coded(err)
			}
			return c.JSON(http.StatusOK, d)
		})
		g.POST("/reconcile", func(c echo.Context) error {
			var body struct {
				Day string `json:"day"`
			}
			if err := readBody(c, &body, true); err != nil {
				return err
			}
			if body.Day == "" {
				body.Day = w.now().In(w.cfg.Location).Format("2006-01-02")
			}
			rep, err := w.Reconcile(c.Request().Context(), body.Day)
			if err != nil {
				var he *hub.Error
				if errors.As(err, &he) {
					return he
				}
				return &hub.Error{Kind: hub.KindUnavailable, Code: "reconcile_failed", Message: "the reconciliation stopped: " + err.Error(), Err: err}
			}
			return c.JSON(http.StatusOK, rep)
		})
	}
}

func atLeast(role hub.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := httpapi.PrincipalOf(c)
			if !ok {
				return hub.ErrUnauthorized
			}
			if p.IsDevice() || !p.Role.AtLeast(role) {
				return hub.ErrForbidden
			}
			return next(c)
		}
	}
}

func seqParam(c echo.Context) (uint64, error) {
	seq, err := strconv.ParseUint(c.Param("seq"), 10, 64)
	if err != nil || seq == 0 {
		return 0, hub.FieldError("invalid_seq", "seq", "seq must be the positive number of a dead letter")
	}
	return seq, nil
}

// readBody decodes a small JSON body strictly; an empty body is allowed
// when optional.
func readBody(c echo.Context, v any, optional bool) error {
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10+1))
	if err != nil {
		return hub.FieldError("invalid_body", "", "unreadable body")
	}
	if len(data) > 64<<10 {
		return &hub.Error{Kind: hub.KindTooLarge, Code: "body_too_large", Message: "the body is over 64 KiB"}
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		if optional {
			return nil
		}
		return hub.FieldError("invalid_body", "", "a JSON body is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return hub.FieldError("invalid_body", "", "the body is not valid JSON for this call: %s", err.Error())
	}
	return nil
}

func coded(err error) error {
	var he *hub.Error
	if errors.As(err, &he) {
		return he
	}
	return internal(err)
}

func internal(err error) error {
	return &hub.Error{Kind: hub.KindInternal, Code: "crmsync_store_failed", Message: "the crmsync store failed", Err: err}
}
