package backtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseWhen reads one end of a backtest's window: a span back from now ("30d", "12h", "90m"), a
// date ("2026-11-01", midnight UTC) or an RFC 3339 time.
func ParseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("is empty")
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 3660 {
			return time.Time{}, fmt.Errorf("%q: give days as a whole number, e.g. 30d", s)
		}
		return now.Add(-time.Duration(days) * 24 * time.Hour), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q: a span back from now cannot be negative", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: give a span back from now (30d, 12h), a date (2026-11-01) or an RFC 3339 time", s)
}
