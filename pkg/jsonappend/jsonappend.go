// Package jsonappend appends JSON numbers and strings to byte slices exactly as
// encoding/json writes them, for the hot paths that write JSON by hand: the index's
// GeoJSON and the unit's documents that pkg/unitcodec writes for both stores.
package jsonappend

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Float appends f as encoding/json does; f must be finite.
func Float(b []byte, f float64) []byte {
	if out, ok := fixed7(b, f); ok {
		return out
	}
	return slowFloat(b, f)
}

// fixed7 appends f when it is the double nearest a decimal of at most seven fraction
// digits (coordinates to the centimetre, most measured values) and 1e-6 ≤ |f| < 2^29:
// that decimal, its trailing zeros trimmed, is then the shortest that reads back as f —
// strconv's answer (below 2^29 a double's spacing is under 1e-7, so no other decimal of
// seven fraction digits or fewer rounds to it) — written without strconv's shortest-digit
// search, which is most of the time of writing a line's or polygon's coordinates.
func fixed7(b []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if !(a >= 1e-6 && a < 1<<29) {
		return b, false
	}
	m := math.Round(a * 1e7)
	if m/1e7 != a {
		return b, false
	}
	n := int64(m)
	if f < 0 {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, n/1e7, 10)
	frac := n % 1e7
	if frac == 0 {
		return b, true
	}
	var d [8]byte
	d[0] = '.'
	for i := 7; i >= 1; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := 8
	for d[end-1] == '0' {
		end--
	}
	return append(b, d[:end]...), true
}

// slowFloat is Float through strconv's shortest representation.
func slowFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// String quotes s as encoding/json does: HTML-safe (<, > and & as \u003c, \u003e,
// \u0026), invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func String(b []byte, s string) []byte { return appendString(b, s, true) }

// PlainString quotes s as a json.Encoder with SetEscapeHTML(false) does: as String, but
// <, > and & are written as they are.
func PlainString(b []byte, s string) []byte { return appendString(b, s, false) }

func appendString(b []byte, s string, html bool) []byte {
	if plain(s, html) {
		// Most names and codes need no escaping: copied whole, not rune by rune (the
		// indexes encode two documents of a million units each at start).
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// careful marks the bytes a string is written differently for: control characters, '"',
// '\\', 0xE2 (which starts U+2028 and U+2029), and with html also <, > and &.
var careful, carefulHTML = func() (plain, html [256]bool) {
	for c := 0; c < 0x20; c++ {
		plain[c] = true
	}
	plain['"'], plain['\\'], plain[0xE2] = true, true, true
	html = plain
	html['<'], html['>'], html['&'] = true, true, true
	return plain, html
}()

// plain reports whether s is written as it is: valid UTF-8 with no byte that needs care.
func plain(s string, html bool) bool {
	table := &careful
	if html {
		table = &carefulHTML
	}
	for i := 0; i < len(s); i++ {
		if table[s[i]] {
			return false
		}
	}
	return utf8.ValidString(s)
}
