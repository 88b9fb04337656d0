package bench

import (
	"bytes"
	"html"
	"net/url"
	"strings"
)

// form is one HTML form as a browser would submit it: its action, resolved against the page's
// URL, and the values its hidden fields and checked radio buttons carry. hasCode says the form asks
// for a one-time code (an input named "code").
type form struct {
	id      string
	action  string
	values  url.Values
	hasCode bool
}

// parseForms reads the forms of a page. It is a small scanner for the pages open3ds renders (valid
// HTML from html/template, attributes quoted), not a general HTML parser: golang.org/x/net/html is
// not among the module's dependencies, and these pages need no more.
func parseForms(page []byte, pageURL string) []form {
	base, _ := url.Parse(pageURL)
	var forms []form
	var cur *form
	// A radio group submits its checked button. When none is checked the first is taken, as the
	// shopper would have to pick one to go on.
	const seen, checked = 1, 2
	radios := map[string]int{}
	for rest := page; ; {
		lt := bytes.IndexByte(rest, '<')
		if lt < 0 {
			break
		}
		rest = rest[lt+1:]
		gt := bytes.IndexByte(rest, '>')
		if gt < 0 {
			break
		}
		name, attrs := parseTag(rest[:gt])
		rest = rest[gt+1:]
		switch name {
		case "form":
			f := form{id: attrs["id"], values: url.Values{}}
			if base != nil {
				if ref, err := url.Parse(attrs["action"]); err == nil {
					f.action = base.ResolveReference(ref).String()
				}
			}
			forms = append(forms, f)
			cur = &forms[len(forms)-1]
			clear(radios)
		case "/form":
			cur = nil
		case "input":
			if cur == nil || attrs["name"] == "" {
				continue
			}
			n := attrs["name"]
			switch strings.ToLower(attrs["type"]) {
			case "hidden":
				cur.values.Set(n, attrs["value"])
			case "radio":
				_, on := attrs["checked"]
				if on && radios[n] != checked || radios[n] == 0 {
					cur.values.Set(n, attrs["value"])
					radios[n] = map[bool]int{true: checked, false: seen}[on]
				}
			default:
				if n == "code" {
					cur.hasCode = true
				}
			}
		}
	}
	return forms
}

// parseTag splits the inside of a tag into its lower-case name and its attributes, values
// unescaped. An attribute without a value (checked, required) maps to "".
func parseTag(t []byte) (string, map[string]string) {
	s := strings.TrimSuffix(strings.TrimSpace(string(t)), "/")
	end := strings.IndexAny(s, " \t\r\n")
	if end < 0 {
		return strings.ToLower(s), nil
	}
	name, s := strings.ToLower(s[:end]), s[end:]
	attrs := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return name, attrs
		}
		k := strings.IndexAny(s, "= \t\r\n")
		if k < 0 {
			attrs[strings.ToLower(s)] = ""
			return name, attrs
		}
		key := strings.ToLower(s[:k])
		s = strings.TrimLeft(s[k:], " \t\r\n")
		if !strings.HasPrefix(s, "=") {
			attrs[key] = ""
			continue
		}
		s = strings.TrimLeft(s[1:], " \t\r\n")
		var v string
		if s != "" && (s[0] == '"' || s[0] == '\'') {
			q := strings.IndexByte(s[1:], s[0])
			if q < 0 {
				q = len(s) - 1
			}
			v, s = s[1:1+q], s[min(2+q, len(s)):]
		} else {
			e := strings.IndexAny(s, " \t\r\n")
			if e < 0 {
				e = len(s)
			}
			v, s = s[:e], s[e:]
		}
		attrs[key] = html.UnescapeString(v)
	}
}
