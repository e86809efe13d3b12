package kiosk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
)

// decodeStrict reads one JSON object into v as the API does: at most
// httpapi.MaxBody bytes, no unknown fields, nothing after the object; every
// failure is a 4xx coded error.
func decodeStrict(r io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, httpapi.MaxBody+1))
	if err != nil {
		return &hub.Error{Kind: hub.KindInvalid, Code: "unreadable_body", Message: "the request body could not be read"}
	}
	if len(data) > httpapi.MaxBody {
		return &hub.Error{Kind: hub.KindTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the request body is larger than %d bytes", httpapi.MaxBody)}
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: "the request body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_field", Field: typ.Field, Message: fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &hub.Error{Kind: hub.KindInvalid, Code: "unknown_field", Field: f, Message: fmt.Sprintf("unknown field %q", f)}
		}
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: "malformed JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: "unexpected data after the JSON object"}
	}
	return nil
}
