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
	Disabled bool     `json:"disabled"`
}

func (s *Server) userOut(u *hub.User) userJSON {
	return userJSON{Username: u.Username, Role: u.Role, Locked: s.eng.Now().Before(u.LockedUntil), Disabled: u.Disabled}
}

func (s *Server) users(c echo.Context) error {
	us, err := s.acc.Users()
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, s.userOut(u))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return c.JSON(http.StatusOK, out)
}

type userRequest struct {
	Username string   `json:"username"`
	Role     hub.Role `json:"role"`
	Password string   `json:"password"`
	Disabled bool     `json:"disabled"`
}

// putUser creates a user or replaces their role and password (admin); the
// replaced user's open sessions end, and the change is audited.
func (s *Server) putUser(c echo.Context) error {
	var r userRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if err := hub.ValidPassword(r.Password); err != nil {
		return err
	}
	if !r.Role.Valid() {
		return hub.FieldError("invalid_role", "role", "role must be clerk, supervisor or admin")
	}
	return s.saveUser(c, hub.UserChange{Username: r.Username, Role: r.Role, Password: r.Password, Disabled: &r.Disabled})
}

type userPatch struct {
	Role     hub.Role `json:"role"`
	Password string   `json:"password"`
	Disabled *bool    `json:"disabled"`
}

// patchUser changes some of an existing user (admin): a new role, a
// password reset, disabling or enabling.
func (s *Server) patchUser(c echo.Context) error {
	var r userPatch
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	name := c.Param("username")
	if _, err := s.acc.User(name); err != nil {
		return err
	}
	return s.saveUser(c, hub.UserChange{Username: name, Role: r.Role, Password: r.Password, Disabled: r.Disabled})
}

func (s *Server) saveUser(c echo.Context, ch hub.UserChange) error {
	p, _ := principal(c)
	u, err := s.eng.SaveUser(c.Request().Context(), s.acc, p.ID, ch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.userOut(u))
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
	if r.ID == "" {
		return hub.FieldError("missing_field", "id", "id is required: the totem's or display's id in the site")
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
	p, _ := principal(c)
	tok, err := s.eng.EnrollDevice(c.Request().Context(), s.acc, p.ID, r.ID, r.Kind)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, deviceJSON{ID: r.ID, Kind: r.Kind, Token: tok})
}
