package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// ParsePublicURL checks a --public-url value: an absolute http or https URL with a host and
// no query or fragment.
func ParsePublicURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errPublicURL
	}
	return strings.TrimRight(u.String(), "/"), nil
}

type publicURLError struct{}

func (publicURLError) Error() string {
	return "--public-url 应为 http:// 或 https:// 开头的完整地址（如 https://riskmap.example.gov.cn），不带查询参数"
}

var errPublicURL = publicURLError{}

// baseURL decides the scheme and host of the absolute links the server writes (OGC API
// links, next pages, TileJSON tile URLs). A client chooses its Host header and may send
// X-Forwarded-Proto, X-Forwarded-Ssl or X-Url-Scheme as it likes, and a cache in front would
// keep links poisoned by them; so links come from --public-url when it is set, and
// otherwise from what the client cannot forge:
//   - the scheme is https only when the connection is TLS, or a trusted proxy says so;
//   - the host is the Host header only when it names a loopback host or the very address
//     the client connected to; behind a trusted proxy, X-Forwarded-Host is believed;
//   - any other Host gets links to the address the client connected to.
func (s *Server) baseURL(c echo.Context) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	r := c.Request()
	scheme := "http"
	if s.isTLS(c) {
		scheme = "https"
	}
	if len(s.cfg.Auth.TrustedProxies) > 0 && s.fromTrustedProxy(r) {
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			return scheme + "://" + h
		}
	}
	local := localAddr(r)
	if h := r.Host; validHost(h) && (isLoopbackHost(h) || h == local) {
		return scheme + "://" + h
	}
	if local == "" {
		local = "localhost"
	}
	return scheme + "://" + local
}

func firstValue(h string) string {
	if i := strings.IndexByte(h, ','); i >= 0 {
		h = h[:i]
	}
	return strings.TrimSpace(h)
}

// validHost accepts host or host:port with the characters of a DNS name or an IP literal
// and a numeric port.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	if host, port, err := net.SplitHostPort(h); err == nil {
		if host == "" || port == "" || strings.Trim(port, "0123456789") != "" {
			return false
		}
	} else if strings.Contains(strings.Trim(h, "[]"), ":") && net.ParseIP(strings.Trim(h, "[]")) == nil {
		return false
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == ':', r == '[', r == ']':
		default:
			return false
		}
	}
	return true
}

func isLoopbackHost(h string) bool {
	host, _, err := net.SplitHostPort(h)
	if err != nil {
		host = strings.Trim(h, "[]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// localAddr is the address the client connected to, as host:port.
func localAddr(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a.String()
	}
	return ""
}

// varyByCaller marks responses that depend on who asks. A shared cache must neither hand
// one user's register to another nor the register to the public: every answer outside the
// public map varies by cookie and token, and one given to a logged-in user is private.
func (s *Server) varyByCaller(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Path()
		if strings.HasPrefix(p, "/public") || strings.HasPrefix(p, "/assets/") || p == "/healthz" {
			return next(c)
		}
		h := c.Response().Header()
		vary(h, "Cookie", "Authorization")
		c.Response().Before(func() {
			cc := h.Get("Cache-Control")
			switch {
			case userOf(c) == nil:
				if cc == "" {
					h.Set("Cache-Control", "no-cache")
				}
			case cc == "":
				h.Set("Cache-Control", "private, no-cache")
			case strings.Contains(cc, "private") || strings.Contains(cc, "no-store"):
			case strings.Contains(cc, "public"):
				h.Set("Cache-Control", strings.Replace(cc, "public", "private", 1))
			default:
				h.Set("Cache-Control", "private, "+cc)
			}
		})
		return next(c)
	}
}

// ParseTrustedProxies reads --trusted-proxy: a comma-separated list of CIDRs, where a bare
// address is one host.
func ParseTrustedProxies(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range SplitList(list) {
		if !strings.Contains(c, "/") {
			if ip := net.ParseIP(c); ip != nil && ip.To4() != nil {
				c += "/32"
			} else {
				c += "/128"
			}
		}
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy: %q is not a CIDR such as 10.0.0.0/8", c)
		}
		out = append(out, n)
	}
	return out, nil
}
