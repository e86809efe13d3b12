package httpapi

import (
	"net/http"
	"sort"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

type userJSON struct {
	Username string   `json:"username"`
	Role     hub.Role `json:"role"`
	Locked   bool     `json:"locked"`
}

func (s *Server) users(c echo.Context) error {
	us, err := s.acc.Users()
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(us))
	now := s.eng.Now()
	for _, u := range us {
		out = append(out, userJSON{Username: u.Username, Role: u.Role, Locked: now.Before(u.LockedUntil)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return c.JSON(http.StatusOK, out)
}

type userRequest struct {
	Username string   `json:"username"`
	Role     hub.Role `json:"role"`
	Password string   `json:"password"`
}

// putUser creates a user or replaces their role and password (admin).
func (s *Server) putUser(c echo.Context) error {
	var r userRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if len(r.Password) < 8 || len(r.Password) > 72 {
		return hub.FieldError("invalid_password", "password", "a password is 8-72 characters")
	}
	if err := s.acc.SetUser(r.Username, r.Role, r.Password); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userJSON{Username: r.Username, Role: r.Role})
}

type deviceRequest struct {
	ID   string         `json:"id"`
	Kind hub.DeviceKind `json:"kind"`
}

type deviceJSON struct {
	ID    string         `json:"id"`
	Kind  hub.DeviceKind `json:"kind"`
	Token string         `json:"token"`
}

// enrollDevice enrols a totem or display of the site and returns its new
// token (shown once; any older token of that device stops working).
func (s *Server) enrollDevice(c echo.Context) error {
	var r deviceRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	switch r.Kind {
	case hub.DeviceTotem:
		if !s.knownTotem(r.ID) {
			return &hub.Error{Kind: hub.KindNotFound, Code: "totem_not_found", Field: "id", Message: "no totem " + r.ID + " in the site"}
		}
	case hub.DeviceDisplay:
		if _, ok := s.displayDef(r.ID); !ok {
			return &hub.Error{Kind: hub.KindNotFound, Code: "display_not_found", Field: "id", Message: "no display " + r.ID + " in the site"}
		}
	default:
		return hub.FieldError("invalid_kind", "kind", "kind must be totem or display")
	}
	tok, err := s.acc.EnrollDevice(r.ID, r.Kind, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, deviceJSON{ID: r.ID, Kind: r.Kind, Token: tok})
}
