package assets

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHashedURLsServeContent(t *testing.T) {
	for _, name := range Names() {
		u := URL(name)
		if !strings.HasPrefix(u, Prefix) || u == Prefix+name {
			t.Fatalf("%s: URL %s is not hashed", name, u)
		}
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest("GET", u, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d", u, rec.Code)
		}
		body, _ := io.ReadAll(rec.Body)
		want, _ := Read(name)
		if string(body) != string(want) {
			t.Fatalf("%s: wrong content", u)
		}
		if !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Fatalf("%s: not cached", u)
		}
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", Prefix+"base.css", nil))
	if rec.Code != 404 {
		t.Fatalf("unhashed name served: %d", rec.Code)
	}
}
