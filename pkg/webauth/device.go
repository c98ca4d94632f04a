package webauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Device cookies: after a successful login the browser gets a signed cookie that names the
// accounts it has logged in to (at most deviceAccounts, newest first). A login attempt for
// one of them is "proven" and is not held back by the per-address limit (see throttle), so
// the colleagues of an office behind one NAT address keep logging in while somebody there,
// or a scanner sharing the address, is past the address's limit. It proves nothing else: it
// is no session and grants no access.
const (
	deviceCookieSecure = "__Host-riskmap_device"
	deviceCookiePlain  = "riskmap_device"
	deviceAccounts     = 5
	deviceLifetime     = 180 * 24 * time.Hour
)

// deviceEntry is one account in a device cookie: name (as stored), issued (unix seconds),
// and the HMAC of both. Entries are joined by "~".
func (a *Auth) deviceEntry(account string, issued int64) string {
	name := base64.RawURLEncoding.EncodeToString([]byte(account))
	ts := strconv.FormatInt(issued, 10)
	return name + "." + ts + "." + a.deviceMAC(name, ts)
}

func (a *Auth) deviceMAC(name, ts string) string {
	m := hmac.New(sha256.New, a.deviceKey)
	m.Write([]byte("riskmap-device\x00" + name + "\x00" + ts))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// deviceItem is one valid entry of a device cookie.
type deviceItem struct{ account, entry string }

// deviceEntries returns the still valid entries of the request's device cookie, newest
// first.
func (a *Auth) deviceEntries(c echo.Context, now time.Time) []deviceItem {
	raw := a.cookieValue(c, deviceCookieSecure, deviceCookiePlain)
	if raw == "" || len(raw) > 2048 {
		return nil
	}
	var out []deviceItem
	for _, e := range strings.Split(raw, "~") {
		parts := strings.Split(e, ".")
		if len(parts) != 3 || len(out) >= deviceAccounts {
			continue
		}
		ts, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || now.Sub(time.Unix(ts, 0)) > deviceLifetime || ts > now.Unix()+60 {
			continue
		}
		if !hmac.Equal([]byte(parts[2]), []byte(a.deviceMAC(parts[0], parts[1]))) {
			continue
		}
		name, err := base64.RawURLEncoding.DecodeString(parts[0])
		if err != nil {
			continue
		}
		out = append(out, deviceItem{string(name), e})
	}
	return out
}

// provenDevice reports whether the browser has logged in to account before.
func (a *Auth) provenDevice(c echo.Context, account string, now time.Time) bool {
	for _, d := range a.deviceEntries(c, now) {
		if d.account == account {
			return true
		}
	}
	return false
}

// rememberDevice adds (or renews) account in the browser's device cookie.
func (a *Auth) rememberDevice(c echo.Context, account string, now time.Time) {
	entries := []string{a.deviceEntry(account, now.Unix())}
	for _, d := range a.deviceEntries(c, now) {
		if len(entries) < deviceAccounts && d.account != account {
			entries = append(entries, d.entry)
		}
	}
	a.setCookie(c, &http.Cookie{Value: strings.Join(entries, "~"), MaxAge: int(deviceLifetime / time.Second)},
		deviceCookieSecure, deviceCookiePlain)
}
