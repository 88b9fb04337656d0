package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// timeLayout is how a time travels to the database: UTC, always six fractional digits. Fixed width
// makes SQLite's text column sort in time order; PostgreSQL parses it into timestamptz, which keeps
// microseconds too. So a time reads back the same on either back end.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Time carries a time.Time to and from either back end as UTC at microsecond precision. Pass
// store.Time(t) as a query argument and scan into (*store.Time)(&t).
type Time time.Time

// Value formats the time in UTC, truncated (not rounded) to the microsecond.
func (t Time) Value() (driver.Value, error) {
	return time.Time(t).UTC().Truncate(time.Microsecond).Format(timeLayout), nil
}

// Scan reads what either driver returns for a time column: a time.Time from PostgreSQL, text from
// SQLite. It returns an error for NULL and for text that is not a time.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*t = Time(v.UTC().Truncate(time.Microsecond))
		return nil
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	case nil:
		return fmt.Errorf("store: scan NULL into a time")
	}
	return fmt.Errorf("store: scan %T into a time", src)
}

func (t *Time) parse(s string) error {
	p, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("store: stored time %q: %w", s, err)
	}
	*t = Time(p.UTC().Truncate(time.Microsecond))
	return nil
}
