package logx

import (
	"bytes"
	"encoding/json"
)

// redactJSON applies both rules to a JSON document: object members whose name is a secret get
// "[redacted]", and card numbers are masked in every string, object name and long number. Object
// members come back sorted by name, which is how encoding/json writes maps; the log loses the
// original field order and keeps everything else.
func redactJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // the log is not HTML; "<" should read as "<"
	if err := enc.Encode(redactTree(doc)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

func redactTree(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			if IsSecretKey(k) {
				m[RedactText(k)] = Redacted
				continue
			}
			m[RedactText(k)] = redactTree(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = redactTree(x)
		}
		return v
	case string:
		return RedactText(v)
	case json.Number:
		if digitCount(string(v)) >= minPANDigits {
			return RedactText(string(v))
		}
	}
	return v
}
