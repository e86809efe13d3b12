package httpapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/comune-rc/sportello/hub"
)

// FuzzDecodeIssue: any body either decodes into a request or fails with a
// 4xx coded error; it never panics and never yields a 5xx.
func FuzzDecodeIssue(f *testing.F) {
	for _, s := range []string{
		`{"service":"certificati"}`,
		`{"service":"cie","priority":"disability","channel":"web","appointment":"ABCD2345"}`,
		`{"service":`, `[]`, `null`, `{"service":1}`, `{"x":1}`, `{} {}`, ``, `   `, "\xff\xfe",
		`{"service":"a","service":"b"}`, `{"priority":null}`, `{"service":"` + strings.Repeat("z", 1000) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r issueRequest
		err := decodeJSON(data, &r, false)
		if err == nil {
			return
		}
		var ae *hub.Error
		if !errors.As(err, &ae) {
			t.Fatalf("uncoded error %v", err)
		}
		if ae.Kind != hub.KindInvalid && ae.Kind != hub.KindTooLarge {
			t.Fatalf("not a 4xx kind: %v", err)
		}
		if ae.Code == "" {
			t.Fatalf("no code: %v", err)
		}
	})
}

func FuzzDecodeFinish(f *testing.F) {
	for _, s := range []string{`{"outcome":"ok","services":["a","b"],"notes":"n"}`, `{"services":"a"}`, `{"services":[1]}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r finishRequest
		err := decodeJSON(data, &r, true)
		if err == nil {
			return
		}
		var ae *hub.Error
		if !errors.As(err, &ae) || (ae.Kind != hub.KindInvalid && ae.Kind != hub.KindTooLarge) || ae.Code == "" {
			t.Fatalf("bad error %#v", err)
		}
	})
}

func TestDecodeNamesTheField(t *testing.T) {
	cases := []struct{ body, code, field string }{
		{`{"service":true}`, "invalid_field", "service"},
		{`{"nope":1}`, "unknown_field", "nope"},
		{`{"service":"a"`, "invalid_json", ""},
		{`{"service":"a"}x`, "invalid_json", ""},
	}
	for _, tc := range cases {
		var r issueRequest
		err := decodeJSON([]byte(tc.body), &r, false)
		var ae *hub.Error
		if !errors.As(err, &ae) {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if ae.Code != tc.code || ae.Field != tc.field {
			t.Errorf("%s: got %s/%s, want %s/%s", tc.body, ae.Code, ae.Field, tc.code, tc.field)
		}
	}
}
