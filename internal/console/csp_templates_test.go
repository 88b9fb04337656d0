package console_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The console answers under the default Content-Security-Policy, which allows no inline styles or
// scripts: a style="" attribute or an inline <script> in any role's console page is silently
// ignored by the browser in production, so the page looks broken only there. Every console
// template of every role is checked here, since the pages' own tests run without the headers.
func TestConsoleTemplatesHaveNoInlineStyleOrScript(t *testing.T) {
	files, err := filepath.Glob("../*/console_templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	own, err := filepath.Glob("templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, own...)
	if len(files) < 10 {
		t.Fatalf("found %d console templates; the glob no longer finds the role packages' pages", len(files))
	}
	inline := regexp.MustCompile(`(?i)\sstyle\s*=|<script(\s[^>]*)?>\s*[^<\s]|\son[a-z]+\s*=`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if loc := inline.FindIndex(b); loc != nil {
			line := 1 + bytes.Count(b[:loc[0]], []byte("\n"))
			t.Errorf("%s:%d: %q: the console's CSP blocks inline styles, scripts and event handlers; use a class in console.css or a file under static/",
				f, line, b[loc[0]:min(len(b), loc[1]+20)])
		}
	}
}
