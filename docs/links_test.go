// Package docs_test keeps the project's Markdown self-contained: README.md and docs/*.md link only
// to files of this repository that exist, and to headings that exist in them.
//
// The rule, for every link outside code (inline [text](target), images, reference definitions and
// <autolinks>):
//   - a target with a scheme (https:, http:, mailto:, …) leaves the repository and is refused;
//   - a target starting with "/" is refused: relative paths read the same in a checkout and on a forge;
//   - a relative path must stay inside the repository once resolved against its file's directory, and
//     name a file or directory that exists;
//   - an anchor (#heading, or file.md#heading) must match a heading of that Markdown file.
//
// Addresses written out in prose, which a forge turns into links, may only point at this machine
// (localhost, 127.0.0.1, [::1]) or at a reserved example name (.example, example.com/.net/.org), as
// the demo's addresses and the documentation's placeholders do. Code spans and fenced blocks are
// examples, not links, and are not checked.
package docs_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository's top directory, seen from this package's directory.
const repoRoot = ".."

var (
	fence       = regexp.MustCompile("(?ms)^ {0,3}(```|~~~).*?^ {0,3}(```|~~~)[^\n]*$")
	codeSpan    = regexp.MustCompile("`[^`\n]*`")
	inlineLink  = regexp.MustCompile(`!?\[[^\]\n]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	refDef      = regexp.MustCompile(`(?m)^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)`)
	autolink    = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>`)
	bareURL     = regexp.MustCompile(`\bhttps?://[^\s)<>\]|"'` + "`" + `]+`)
	scheme      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	headingLine = regexp.MustCompile(`(?m)^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$`)
)

// prose is a Markdown text without its fenced blocks and code spans.
func prose(md string) string {
	return codeSpan.ReplaceAllString(fence.ReplaceAllString(md, ""), "")
}

// anchors are the ids a forge gives a file's headings: lower case, punctuation dropped, spaces as
// hyphens, and -1, -2, … after a repeated one.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range headingLine.FindAllStringSubmatch(fence.ReplaceAllString(md, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			out[fmt.Sprintf("%s-%d", id, n)] = true
		} else {
			out[id] = true
		}
		seen[id]++
	}
	return out
}

// allowedHost says whether an address written out in prose may stay: this machine or an example name.
func allowedHost(raw string) bool {
	u, err := url.Parse(strings.TrimRight(raw, ".,;:"))
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	switch {
	case h == "localhost" || h == "127.0.0.1" || h == "::1":
		return true
	case h == "example" || strings.HasSuffix(h, ".example"):
		return true
	}
	for _, d := range []string{"example.com", "example.net", "example.org"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// linkProblems lists what is wrong with the links of one Markdown file, path relative to root.
func linkProblems(root, path, md string) []string {
	var out []string
	text := prose(md)
	var targets []string
	for _, re := range []*regexp.Regexp{inlineLink, refDef, autolink} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			targets = append(targets, m[1])
		}
	}
	for _, t := range targets {
		if p := targetProblem(root, path, md, t); p != "" {
			out = append(out, fmt.Sprintf("%s: link %q %s", path, t, p))
		}
	}
	for _, u := range bareURL.FindAllString(inlineLink.ReplaceAllString(text, ""), -1) {
		if !allowedHost(u) {
			out = append(out, fmt.Sprintf("%s: address %q points outside this machine; a forge would make it a link", path, u))
		}
	}
	return out
}

func targetProblem(root, path, md, target string) string {
	switch {
	case target == "":
		return "is empty"
	case scheme.MatchString(target):
		return "leaves the repository"
	case strings.HasPrefix(target, "/"):
		return "is absolute; use a path relative to the file"
	}
	file, anchor, _ := strings.Cut(target, "#")
	if unescaped, err := url.PathUnescape(file); err == nil {
		file = unescaped
	}
	content := md
	if file != "" {
		rel := filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
		if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "leaves the repository"
		}
		st, err := os.Stat(filepath.Join(root, rel))
		if err != nil {
			return "names no file of the repository"
		}
		if anchor == "" {
			return ""
		}
		if st.IsDir() || !strings.EqualFold(filepath.Ext(rel), ".md") {
			return "has an anchor into a file that is not Markdown"
		}
		raw, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return err.Error()
		}
		content = string(raw)
	}
	if anchor != "" && !anchors(content)[strings.ToLower(anchor)] {
		return "names no heading of its file"
	}
	return ""
}

// TestTheProjectsMarkdownLinksStayInTheRepositoryAndResolve checks README.md and docs/*.md.
func TestTheProjectsMarkdownLinksStayInTheRepositoryAndResolve(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(repoRoot, "README.md")}, files...)
	links := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(repoRoot, f)
		if err != nil {
			t.Fatal(err)
		}
		links += len(inlineLink.FindAllString(prose(string(raw)), -1))
		for _, p := range linkProblems(repoRoot, rel, string(raw)) {
			t.Error(p)
		}
	}
	if len(files) < 4 || links < 10 {
		t.Fatalf("found %d files and %d links: the test is not looking where the documents are", len(files), links)
	}
}

// TestTheLinkCheckRefusesWhatItShould runs the checker on a small repository of its own.
func TestTheLinkCheckRefusesWhatItShould(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "docs", "other.md"), []byte("# Other page\n\n## State and failure\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "NOTES.txt"), []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, md string
		bad      bool
	}{
		{"a link to a file beside it is fine", "[o](other.md)", false},
		{"a link up to the repository's top is fine", "[n](../NOTES.txt)", false},
		{"a link to a heading of another page is fine", "[s](other.md#state-and-failure)", false},
		{"a link to a heading of its own page is fine", "# Top\n\n## Flows\n\n[f](#flows)", false},
		{"a link out of the repository is refused", "[a](../../shared/ARCHITECTURE.md)", true},
		{"a web link is refused", "[w](https://github.com/open3ds/open3ds)", true},
		{"an autolink is refused", "<https://emvco.com/>", true},
		{"a reference definition to the web is refused", "[w][x]\n\n[x]: https://emvco.com/\n", true},
		{"an absolute path is refused", "[o](/docs/other.md)", true},
		{"a missing file is refused", "[m](missing.md)", true},
		{"a missing heading is refused", "[s](other.md#no-such-heading)", true},
		{"a missing heading of its own page is refused", "# Top\n[f](#flows)", true},
		{"an outside address in prose is refused", "see https://emvco.com/specs for more", true},
		{"the demo's address in prose is fine", "open http://localhost:8400 or https://127.0.0.1:8413", false},
		{"a placeholder address in prose is fine", "post to https://shop.example/checkout", false},
		{"a link in a code span is not a link", "`[w](https://emvco.com/)`", false},
		{"a link in a fenced block is not a link", "```\n[w](https://emvco.com/)\n```\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := linkProblems(root, filepath.Join("docs", "page.md"), tc.md)
			if tc.bad != (len(got) > 0) {
				t.Errorf("problems %q, want bad=%v", got, tc.bad)
			}
		})
	}
}
