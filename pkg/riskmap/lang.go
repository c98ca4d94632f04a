package riskmap

import (
	"fmt"
	"strconv"
	"strings"
)

// Lang is a language the messages are rendered in: Chinese (zh-CN), the default, or
// English on request.
type Lang string

const (
	Chinese Lang = "zh-CN"
	English Lang = "en"
)

// message is a message not yet rendered: its format, which is the Chinese text and the key
// of its translations, and its arguments.
type message struct {
	format string
	args   []any
}

// localized is an argument rendered in the language of the message it is part of.
type localized interface{ in(Lang) string }

func (m *message) in(lang Lang) string {
	args, copied := m.args, false
	for i, a := range m.args {
		if l, ok := a.(localized); ok {
			if !copied {
				args, copied = append([]any(nil), m.args...), true
			}
			args[i] = l.in(lang)
		}
	}
	return fmt.Sprintf(Translate(lang, m.format), args...)
}

// Translate returns the format (or fixed message) in lang: its translation from the
// catalog, or itself when lang is Chinese or the catalog has none.
func Translate(lang Lang, format string) string {
	if lang == English {
		if en := english[format]; en != "" {
			return en
		}
	}
	return format
}

// Render formats a message whose format is the Chinese text, in lang.
func Render(lang Lang, format string, args ...any) string {
	return (&message{format: format, args: args}).in(lang)
}

// EnglishCatalog reports the English translation of a Chinese message format, if the
// catalog has one (the message test uses it).
func EnglishCatalog(format string) (string, bool) {
	en, ok := english[format]
	return en, ok
}

// EnglishFormats are the Chinese formats the English catalog translates.
func EnglishFormats() []string {
	out := make([]string, 0, len(english))
	for k := range english {
		out = append(out, k)
	}
	return out
}

// NegotiateLang picks the language of an answer from an Accept-Language header
// (RFC 9110 §12.5.4): the acceptable language with the highest q-value that riskmap
// speaks, the earlier one on a tie. "zh…" and "*" are Chinese, "en…" English; other
// languages are passed over; nothing acceptable, an empty or unreadable header: Chinese.
func NegotiateLang(header string) Lang {
	best, bestQ := Chinese, -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		var lang Lang
		primary, _, _ := strings.Cut(tag, "-")
		switch primary {
		case "zh", "*":
			lang = Chinese
		case "en":
			lang = English
		default:
			continue
		}
		if q > 0 && q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}

// Text is a piece of a message made apart from it (a description of bad JSON, say): as
// an argument of Errorf or Problems.Add it is rendered in the language of the message.
type Text struct{ m *message }

// Textf makes a Text; the format is the Chinese text and the key of its translations.
func Textf(format string, args ...any) Text { return Text{&message{format: format, args: args}} }

func (t Text) in(lang Lang) string {
	if t.m == nil {
		return ""
	}
	return t.m.in(lang)
}

// String is the text in Chinese.
func (t Text) String() string { return t.in(Chinese) }
