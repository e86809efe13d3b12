package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/comune-rc/sportello/hub"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 1 << 20

// decodeBody reads a JSON object into v strictly: at most MaxBody bytes,
// no unknown fields, no trailing data, types as declared. An empty body
// is an empty object when allowEmpty. Every failure is a 4xx coded error
// naming the field where it can.
func decodeBody(r io.Reader, v any, allowEmpty bool) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return &hub.Error{Kind: hub.KindInvalid, Code: "unreadable_body", Message: "the request body could not be read"}
	}
	return decodeJSON(data, v, allowEmpty)
}

// DecodeJSON reads one JSON object into v as the API's routes do (see
// decodeBody; an empty body is an error), for the page packages' JSON
// routes, so that they answer bad bodies with the API's codes.
func DecodeJSON(r io.Reader, v any) error { return decodeBody(r, v, false) }

func decodeJSON(data []byte, v any, allowEmpty bool) error {
	if len(data) > MaxBody {
		return &hub.Error{Kind: hub.KindTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the request body is larger than %d bytes", MaxBody)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if allowEmpty {
			return nil
		}
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: "the request body is empty; a JSON object is required"}
	}
	if bytes.TrimSpace(data)[0] != '{' {
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: "the request body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: "unexpected data after the JSON object"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: "unexpected data after the JSON object"}
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, err)}
	case errors.As(err, &typ):
		field := typ.Field
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_field", Field: field, Message: fmt.Sprintf("field %q must be %s, not %s", field, typ.Type, typ.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: "the JSON object is incomplete"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &hub.Error{Kind: hub.KindInvalid, Code: "unknown_field", Field: field, Message: fmt.Sprintf("unknown field %q", field)}
	}
	return &hub.Error{Kind: hub.KindInvalid, Code: "invalid_json", Message: err.Error()}
}
