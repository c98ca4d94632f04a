package httpapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// compressMin is the smallest response body worth compressing: below it gzip's header and
// the CPU cost more than the bytes saved.
const compressMin = 1024

// gzipWriters are reused: a gzip.Writer holds about a quarter of a megabyte.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// compress gzips responses of compressMin bytes or more whose media type is text (JSON,
// GeoJSON, CSV, HTML, JavaScript, XML) for clients that accept gzip, at gzip's fastest
// level: a list of a small bounding box costs about as much to compress as to encode, and
// a tenth of the bytes on the wire. A handler that chose its encoding itself (vector tiles
// and assets kept gzipped, /metrics) is left alone, as are other media types (images, PDF,
// xlsx, docx: compressed already), the event stream, range requests and HEAD.
func compress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodHead || r.Header.Get("Range") != "" || !acceptsGzip(r) {
			return next(c)
		}
		res := c.Response()
		res.Header().Add("Vary", "Accept-Encoding")
		cw := &compressWriter{ResponseWriter: res.Writer}
		res.Writer = cw
		defer func() {
			cw.finish()
			res.Writer = cw.ResponseWriter
		}()
		return next(c)
	}
}

// compressWriter decides at the first write whether to compress: it buffers up to
// compressMin bytes of a compressible answer, then gzips the rest through.
type compressWriter struct {
	http.ResponseWriter
	code    int  // the status held back until the decision
	decided bool // pass or gz is set
	pass    bool // write through as it is
	buf     bytes.Buffer
	gz      *gzip.Writer
}

// compressible reports whether a response with the headers h may be gzipped here: text of
// a handler that did not choose an encoding itself.
func compressible(h http.Header) bool {
	if h.Get("Content-Encoding") != "" {
		return false
	}
	ct := h.Get("Content-Type")
	if strings.HasPrefix(ct, "text/event-stream") { // streamed: each event must leave at once
		return false
	}
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "javascript") || strings.Contains(ct, "xml")
}

func (w *compressWriter) WriteHeader(code int) {
	switch {
	case w.decided && w.pass:
		w.ResponseWriter.WriteHeader(code)
		return
	case w.decided || w.code != 0: // sent or held already
		return
	}
	if code < 200 || code == http.StatusNoContent || code == http.StatusNotModified || !compressible(w.Header()) {
		w.decided, w.pass = true, true
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.code = code // held until the body says whether it is worth it
}

func (w *compressWriter) Write(b []byte) (int, error) {
	if !w.decided {
		if w.code == 0 {
			w.WriteHeader(http.StatusOK)
			if w.decided {
				return w.ResponseWriter.Write(b)
			}
		}
		w.buf.Write(b)
		if w.buf.Len() < compressMin {
			return len(b), nil
		}
		w.startGzip()
		if _, err := w.gz.Write(w.buf.Bytes()); err != nil {
			return 0, err
		}
		w.buf.Reset()
		return len(b), nil
	}
	if w.pass {
		return w.ResponseWriter.Write(b)
	}
	return w.gz.Write(b)
}

func (w *compressWriter) startGzip() {
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	h.Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.code)
	w.gz = gzipWriters.Get().(*gzip.Writer)
	w.gz.Reset(w.ResponseWriter)
	w.decided = true
}

// finish writes what is held back: a short body as it is, or the end of the gzip stream.
func (w *compressWriter) finish() {
	switch {
	case !w.decided && w.code != 0:
		w.ResponseWriter.WriteHeader(w.code)
		w.ResponseWriter.Write(w.buf.Bytes())
	case w.gz != nil:
		w.gz.Close()
		gzipWriters.Put(w.gz)
		w.gz = nil
	}
}

// Flush sends what is buffered (streamed answers).
func (w *compressWriter) Flush() {
	if !w.decided && w.code != 0 {
		w.startGzip()
		w.gz.Write(w.buf.Bytes())
		w.buf.Reset()
	}
	if w.gz != nil {
		w.gz.Flush()
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack lets a handler take the connection (never one that has written).
func (w *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
