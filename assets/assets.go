// Package assets holds the embedded CSS, JS, fonts, sounds and voice clips
// of the pages, and serves them under content-hashed URLs so that a kiosk
// browser never runs a stale script after an upgrade.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed static
var static embed.FS

// Prefix is where the assets are served.
const Prefix = "/assets/"

type entry struct {
	data  []byte
	hash  string
	ctype string
}

var (
	once    sync.Once
	byName  map[string]*entry // "kiosk.js" → entry
	byHashd map[string]*entry // "kiosk.3f2a9c1e.js" → entry
)

func load() {
	byName, byHashd = map[string]*entry{}, map[string]*entry{}
	_ = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		name := strings.TrimPrefix(p, "static/")
		e := &entry{data: data, hash: hex.EncodeToString(sum[:])[:12], ctype: mime.TypeByExtension(path.Ext(name))}
		byName[name] = e
		byHashd[hashed(name, e.hash)] = e
		return nil
	})
}

func hashed(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// URL returns the content-hashed URL of an asset ("kiosk.js" →
// "/assets/kiosk.3f2a9c1e0b7d.js"). Templates call it; an unknown name
// panics at the first render, which the page tests catch.
func URL(name string) string {
	once.Do(load)
	e, ok := byName[name]
	if !ok {
		panic("assets: no asset " + name)
	}
	return Prefix + hashed(name, e.hash)
}

// Names lists every asset.
func Names() []string {
	once.Do(load)
	out := make([]string, 0, len(byName))
	for n := range byName {
		out = append(out, n)
	}
	return out
}

// Read returns an asset's bytes by plain name.
func Read(name string) ([]byte, bool) {
	once.Do(load)
	e, ok := byName[name]
	if !ok {
		return nil, false
	}
	return e.data, true
}

// Handler serves hashed URLs with a year-long immutable cache; the hash
// changes whenever the content does.
func Handler() http.Handler {
	once.Do(load)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		e, ok := byHashd[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if e.ctype != "" {
			w.Header().Set("Content-Type", e.ctype)
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(e.data)
	})
}
