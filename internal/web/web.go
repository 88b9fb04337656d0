// Package web holds what a shopper's browser gets from the ACS: the 3DS Method page, the challenge
// pages, their stylesheet and scripts, and the message files that translate them. Everything is
// embedded, so a binary serves its pages without files beside it, and the scripts are separate files
// so the pages can carry a Content-Security-Policy without 'unsafe-inline'.
//
// A language is one JSON file in messages/ named by its subtag; adding a file adds the language.
package web

import (
	"embed"
	"encoding/json"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed templates/*.html static/* messages/*.json
var files embed.FS

var pages = template.Must(template.New("").ParseFS(files, "templates/*.html"))

// Render writes the named template ("method.html", "challenge.html") with data.
func Render(w io.Writer, name string, data any) error { return pages.ExecuteTemplate(w, name, data) }

// Static serves the stylesheet and scripts under whatever prefix it is mounted at (use
// http.StripPrefix). They hold nothing of a shopper, so browsers may keep them for a day.
func Static() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fsrv.ServeHTTP(w, r)
	})
}

// Messages maps a message key to its text in one language.
type Messages map[string]string

var (
	loadOnce sync.Once
	catalog  map[string]Messages
)

func load() {
	catalog = map[string]Messages{}
	entries, _ := fs.Glob(files, "messages/*.json")
	for _, name := range entries {
		b, err := files.ReadFile(name)
		if err != nil {
			continue
		}
		var m Messages
		if json.Unmarshal(b, &m) != nil {
			panic("web: message file " + name + " is not a JSON object of strings")
		}
		catalog[strings.TrimSuffix(path.Base(name), ".json")] = m
	}
}

// Lang picks the language for a browserLanguage value ("ja-JP", "en"): its primary subtag when a
// message file exists for it, English otherwise.
func Lang(browserLanguage string) string {
	loadOnce.Do(load)
	tag := strings.ToLower(strings.TrimSpace(browserLanguage))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if _, ok := catalog[tag]; ok {
		return tag
	}
	return "en"
}

// Text returns the messages of lang, English keys filling any a translation lacks.
func Text(lang string) Messages {
	loadOnce.Do(load)
	out := Messages{}
	for k, v := range catalog["en"] {
		out[k] = v
	}
	for k, v := range catalog[lang] {
		out[k] = v
	}
	return out
}

// Languages lists the languages with a message file.
func Languages() []string {
	loadOnce.Do(load)
	out := make([]string, 0, len(catalog))
	for k := range catalog {
		out = append(out, k)
	}
	return out
}
