package web_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/web"
)

func TestEveryLanguageTranslatesEveryMessage(t *testing.T) {
	en := web.Text("en")
	if len(en) == 0 {
		t.Fatal("no English messages")
	}
	langs := web.Languages()
	slices.Sort(langs)
	if !slices.Equal(langs, []string{"en", "ja"}) {
		t.Errorf("languages %v, want en and ja", langs)
	}
	for _, lang := range langs {
		for key := range en {
			if _, ok := web.Text(lang)[key]; !ok {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
	}
}

func TestLangFollowsBrowserLanguage(t *testing.T) {
	for in, want := range map[string]string{"ja-JP": "ja", "JA": "ja", "en-GB": "en", "fr-FR": "en", "": "en", "ja_JP": "ja"} {
		if got := web.Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
	if web.Text("ja")["authenticated"] == web.Text("en")["authenticated"] {
		t.Errorf("Japanese falls back to English")
	}
}

func TestStaticFilesAreServedAndTheStylesheetNeverHidesOverflow(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/static", web.Static()))
	defer srv.Close()
	for _, name := range []string{"challenge.css", "challenge.js", "method.js"} {
		resp, err := http.Get(srv.URL + "/static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
		if name == "challenge.css" && strings.Contains(sb.String(), "overflow: hidden") {
			t.Errorf("the stylesheet hides overflow")
		}
	}
}
