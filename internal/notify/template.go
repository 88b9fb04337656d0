package notify

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"path"
	"strings"
	"sync"
	"text/template"
)

// Each language is one JSON file in messages/, named by its language subtag (en.json, ja.json).
// Adding a language means adding a file; every file must carry every key of en.json.
//
//go:embed messages/*.json email.html
var messageFiles embed.FS

// texts is one language's message file, parsed.
type texts struct {
	lang string
	code kindTexts
	// approve asks the cardholder to approve a purchase through a link (decoupled authentication).
	approve kindTexts
	support *template.Template
}

// kindTexts are the words of one kind of message.
type kindTexts struct{ subject, sms, greeting, body, warning *template.Template }

// Rendered is a message in the cardholder's language, ready for a channel.
type Rendered struct {
	Lang    string
	Subject string
	SMS     string // the whole SMS text
	Text    string // the plain-text part of the e-mail
	HTML    string // the HTML part of the e-mail
}

var (
	loadOnce  sync.Once
	languages map[string]*texts
	emailHTML *htmltemplate.Template
	loadErr   error
)

func load() {
	entries, err := messageFiles.ReadDir("messages")
	if err != nil {
		loadErr = err
		return
	}
	languages = map[string]*texts{}
	for _, e := range entries {
		lang := strings.TrimSuffix(e.Name(), ".json")
		raw, err := messageFiles.ReadFile(path.Join("messages", e.Name()))
		if err != nil {
			loadErr = err
			return
		}
		var f map[string]string
		if err := json.Unmarshal(raw, &f); err != nil {
			loadErr = fmt.Errorf("notify: messages/%s: %w", e.Name(), err)
			return
		}
		t := &texts{lang: lang}
		for key, dst := range map[string]**template.Template{
			"subject": &t.code.subject, "sms": &t.code.sms, "greeting": &t.code.greeting,
			"body": &t.code.body, "warning": &t.code.warning, "support": &t.support,
			"approve_subject": &t.approve.subject, "approve_sms": &t.approve.sms, "approve_greeting": &t.approve.greeting,
			"approve_body": &t.approve.body, "approve_warning": &t.approve.warning,
		} {
			src, ok := f[key]
			if !ok {
				loadErr = fmt.Errorf("notify: messages/%s lacks %q", e.Name(), key)
				return
			}
			if *dst, err = template.New(key).Option("missingkey=error").Parse(src); err != nil {
				loadErr = fmt.Errorf("notify: messages/%s: %w", e.Name(), err)
				return
			}
		}
		languages[lang] = t
	}
	emailHTML, loadErr = htmltemplate.ParseFS(messageFiles, "email.html")
}

// Languages lists the language subtags with a message file.
func Languages() []string {
	loadOnce.Do(load)
	var out []string
	for l := range languages {
		out = append(out, l)
	}
	return out
}

// Render produces the texts for m in its locale's language, or in English when there is no file
// for that language. A message with a Link asks the cardholder to approve the purchase there
// instead of giving a code.
func Render(m Message) (Rendered, error) {
	loadOnce.Do(load)
	if loadErr != nil {
		return Rendered{}, loadErr
	}
	lang := strings.ToLower(m.Locale)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	t, ok := languages[lang]
	if !ok {
		t = languages["en"]
	}
	var err error
	exec := func(tt *template.Template) string {
		var b strings.Builder
		if e := tt.Execute(&b, m); e != nil && err == nil {
			err = e
		}
		return b.String()
	}
	k, shown := t.code, m.Code
	if m.Link != "" {
		k, shown = t.approve, m.Link
	}
	r := Rendered{Lang: t.lang, Subject: exec(k.subject), SMS: exec(k.sms)}
	greeting, body, warning, support := exec(k.greeting), exec(k.body), exec(k.warning), exec(t.support)
	if err != nil {
		return Rendered{}, fmt.Errorf("notify: render %s message: %w", t.lang, err)
	}
	r.Text = fmt.Sprintf("%s\n\n%s\n\n    %s\n\n%s\n", greeting, body, shown, warning)
	if support != "" {
		r.Text += "\n" + support + "\n"
	}
	var h bytes.Buffer
	err = emailHTML.Execute(&h, map[string]string{
		"Lang": t.lang, "Subject": r.Subject, "Issuer": m.Issuer.Name, "Greeting": greeting,
		"Body": body, "Code": m.Code, "Link": m.Link, "Warning": warning, "Support": support,
	})
	if err != nil {
		return Rendered{}, fmt.Errorf("notify: render e-mail HTML: %w", err)
	}
	r.HTML = h.String()
	return r, nil
}
