package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/logx"
)

// maxSecretFile bounds what a _FILE secret may hold. Keys in PEM form are a few kilobytes; a larger
// file is the wrong file.
const maxSecretFile = 1 << 20

// set parses text and stores it in the field. Every source ends up here, so a value means the same
// thing in the file, the environment and on the command line. The error says what was expected and
// never repeats a secret.
func (f *field) set(text string) error {
	switch f.kind {
	case kindString, kindSecret:
		f.v.SetString(text)
	case kindBool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("want true or false, got %s", f.show(text))
		}
		f.v.SetBool(b)
	case kindInt:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("want a whole number, got %s", f.show(text))
		}
		f.v.SetInt(int64(n))
	case kindDuration:
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("want a duration such as 30s or 5m, got %s", f.show(text))
		}
		f.v.SetInt(int64(d))
	case kindStrings:
		f.setList(splitList(text))
	}
	return nil
}

// setList stores a list in a []string field (a YAML sequence arrives here item by item).
func (f *field) setList(items []string) {
	f.v.Set(reflect.ValueOf(items).Convert(f.v.Type()))
}

// show quotes a bad value for a problem message, unless the field's name says it may be a secret that
// was given the wrong type: then the value is not repeated at all.
func (f *field) show(text string) string {
	if logx.IsSecretKey(f.yaml) || logx.IsSecretKey(f.env) {
		return "a value (not shown)"
	}
	return quote(text)
}

// splitList reads a comma-separated list, trimming spaces and dropping empty items, so that
// "a, b," is [a b] and "" is an empty list.
func splitList(text string) []string {
	items := []string{}
	for _, s := range strings.Split(text, ",") {
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	return items
}

// readSecretFile reads a secret from a file, as container platforms mount them. Trailing line breaks
// are trimmed because every editor and `echo` add one; an empty file is a mistake, not an empty secret.
func readSecretFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxSecretFile)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return "", fmt.Errorf("%s is empty", path)
	}
	return string(b), nil
}

// format shows a field's current value, for the defaults in flag usage.
func (f *field) format() string {
	switch f.kind {
	case kindSecret:
		return ""
	case kindDuration:
		return time.Duration(f.v.Int()).String()
	case kindStrings:
		return strings.Join(f.v.Convert(reflect.TypeOf([]string(nil))).Interface().([]string), ",")
	}
	return fmt.Sprint(f.v.Interface())
}
