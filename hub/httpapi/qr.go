package httpapi

import (
	"net/http"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"
)

// qrPNG draws a QR code (the totem's ticket screen shows the tracking
// link's). Only short payloads: this is not a general image service.
func (s *Server) qrPNG(c echo.Context) error {
	data := c.QueryParam("data")
	if data == "" || len(data) > 512 {
		return hub.FieldError("invalid_data", "data", "data must be 1-512 characters")
	}
	png, err := qrcode.Encode(data, qrcode.Medium, 320)
	if err != nil {
		return hub.FieldError("invalid_data", "data", "cannot encode: %v", err)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/png", png)
}
