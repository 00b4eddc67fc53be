package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Flex is a JSON scalar read defensively: a string, a number or a boolean becomes its text,
// anything else (null, an object, an array) becomes "". Providers send codes and timestamps
// sometimes as numbers, sometimes as strings; a field of the wrong shape never fails a parse.
type Flex string

// UnmarshalJSON implements json.Unmarshaler.
func (f *Flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		*f = ""
		return nil
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = Flex(s)
	case 't', 'f':
		*f = Flex(b)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		*f = Flex(b)
	default:
		*f = ""
	}
	return nil
}

// String returns f's text.
func (f Flex) String() string { return string(f) }

// UnixTime reads a Unix time in seconds ("1700000000"), zero when it is not one.
func UnixTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// ISOTime reads an ISO-8601 / RFC 3339 time, zero when it is not one.
func ISOTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
