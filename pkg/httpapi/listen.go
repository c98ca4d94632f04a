package httpapi

import (
	"bytes"
	"log"
	"net"
	"net/http"
	"time"
)

// HTTPServer is the net/http server for s with its timeouts: a client has Timeouts.Header
// to send its headers, each route's own time to send its body and to read the answer
// (limitBody sets them per request), and Timeouts.Idle between requests. The server-wide
// read timeout is the header time plus the JSON body time, so that a request refused before
// its body was read (a bad path, an unknown route) or answered by net/http itself cannot
// hold the connection longer; a route that takes longer uploads extends it for itself. The
// write timeout is a backstop, long enough for any route.
func (s *Server) HTTPServer(errorLog *log.Logger) *http.Server {
	t := s.cfg.Timeouts
	hs := &http.Server{Handler: s, ReadHeaderTimeout: t.Header, IdleTimeout: t.Idle,
		ReadTimeout: t.Header + t.Body, WriteTimeout: max(t.Write, 10*time.Minute),
		MaxHeaderBytes: 64 << 10, ErrorLog: errorLog,
		// "OPTIONS *" goes through the handler (and its headers) like every request.
		DisableGeneralOptionsHandler: true}
	// Shutdown waits for every request to end: the event streams end at once.
	hs.RegisterOnShutdown(s.Close)
	return hs
}

// Listener wraps a listener so that the answers net/http writes itself, before any handler
// runs (a malformed request line, an unsupported HTTP version, a missing or repeated Host,
// headers over the limit), carry the same security headers as every other response.
func Listener(ln net.Listener) net.Listener { return headerListener{ln} }

type headerListener struct{ net.Listener }

func (l headerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &headerConn{Conn: c}, nil
}

// headerConn adds the security headers to net/http's own error answers. They are written
// to the connection in one short piece, status line to body, and close the connection;
// handlers' responses always carry the headers already (secureHeaders), and go through a
// buffer, so a piece of a response body is never taken for one.
type headerConn struct {
	net.Conn
}

var (
	httpPrefix     = []byte("HTTP/1.")
	cspHeaderName  = []byte("\r\nContent-Security-Policy:")
	closeHeader    = []byte("\r\nConnection: close\r\n")
	headEnd        = []byte("\r\n\r\n")
	securityHeader = []byte("\r\nContent-Security-Policy: " + ContentSecurityPolicy +
		"\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: strict-origin-when-cross-origin" +
		"\r\nCross-Origin-Opener-Policy: same-origin")
)

func (c *headerConn) Write(b []byte) (int, error) {
	if len(b) > 1024 || !bytes.HasPrefix(b, httpPrefix) {
		return c.Conn.Write(b)
	}
	end := bytes.Index(b, headEnd)
	line := bytes.Index(b, []byte("\r\n"))
	if end < 0 || line < 0 || !bytes.Contains(b[:end+4], closeHeader) || bytes.Contains(b[:end+2], cspHeaderName) {
		return c.Conn.Write(b)
	}
	out := make([]byte, 0, len(b)+len(securityHeader))
	out = append(out, b[:line]...)
	out = append(out, securityHeader...)
	out = append(out, b[line:]...)
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
