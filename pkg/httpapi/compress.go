package httpapi

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/labstack/echo/v4"
)

// compressMin is the smallest response body worth compressing: below it gzip's header and
// the CPU cost more than the bytes saved.
const compressMin = 1024

// encoder is a compressing writer that can be reused on another destination.
type encoder interface {
	io.WriteCloser
	Flush() error
}

// gzipWriters and zstdWriters are reused: a gzip.Writer holds about a quarter of a
// megabyte, a zstd encoder more. gzip is klauspost/compress's, the standard library's
// format at about twice its speed at the fastest level (half the time of a small box's
// list went to compress/flate).
var (
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return w
	}}
	zstdWriters = sync.Pool{New: func() any {
		// The fastest level, one goroutine, and a window browsers take (at most 8 MB).
		w, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<22), zstd.WithLowerEncoderMem(true))
		return w
	}}
)

// encoderFor returns a reset encoder of the named encoding writing to w, and how to give it
// back.
func encoderFor(encoding string, w io.Writer) (encoder, func()) {
	if encoding == "zstd" {
		z := zstdWriters.Get().(*zstd.Encoder)
		z.Reset(w)
		return z, func() { zstdWriters.Put(z) }
	}
	g := gzipWriters.Get().(*gzip.Writer)
	g.Reset(w)
	return g, func() { gzipWriters.Put(g) }
}

// responseEncoding is the encoding to compress an answer to r with: zstd where the client
// accepts it at least as gladly as gzip (browsers since 2024 send "gzip, deflate, br, zstd"),
// else gzip, else "" (none).
func responseEncoding(r *http.Request) string {
	zq, gq := acceptQ(r, "zstd"), acceptQ(r, "gzip")
	switch {
	case zq > 0 && zq >= gq:
		return "zstd"
	case gq > 0:
		return "gzip"
	}
	return ""
}

// acceptQ is the quality Accept-Encoding gives the encoding name (RFC 9110 §12.5.3): its
// own entry's, else that of "*", else 0. A q that does not parse counts as 0.
func acceptQ(r *http.Request, name string) float64 {
	q, wild := -1.0, 0.0
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.TrimSpace(coding)
		v := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				v = f
			}
		}
		switch {
		case strings.EqualFold(coding, name):
			q = v
		case coding == "*":
			wild = v
		}
	}
	if q < 0 {
		return wild
	}
	return q
}

// compress compresses responses of compressMin bytes or more whose media type is text (JSON,
// GeoJSON, CSV, HTML, JavaScript, XML) for clients that accept it, with zstd where they ask
// for it and gzip otherwise, each at its fastest level: a list of a small bounding box costs
// about as much to compress as to encode, and a tenth of the bytes on the wire. A handler that chose its encoding itself (vector tiles
// and assets kept gzipped, /metrics) is left alone, as are other media types (images, PDF,
// xlsx, docx: compressed already), the event stream, range requests and HEAD.
func compress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodHead || r.Header.Get("Range") != "" {
			return next(c)
		}
		encoding := responseEncoding(r)
		if encoding == "" {
			return next(c)
		}
		res := c.Response()
		vary(res.Header(), "Accept-Encoding")
		cw := &compressWriter{ResponseWriter: res.Writer, encoding: encoding}
		res.Writer = cw
		defer func() {
			cw.finish()
			res.Writer = cw.ResponseWriter
		}()
		return next(c)
	}
}

// compressWriter decides at the first write whether to compress: it buffers up to
// compressMin bytes of a compressible answer, then compresses the rest through.
type compressWriter struct {
	http.ResponseWriter
	encoding string // "gzip" or "zstd"
	code     int    // the status held back until the decision
	decided  bool   // pass or enc is set
	pass     bool   // write through as it is
	buf      bytes.Buffer
	enc      encoder
	release  func() // gives enc back to its pool
}

// compressible reports whether a response with the headers h may be compressed here: text of
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
		if w.buf.Len()+len(b) < compressMin {
			w.buf.Write(b)
			return len(b), nil
		}
		w.start()
		if w.buf.Len() > 0 { // what was held back, not copied again with b
			if _, err := w.enc.Write(w.buf.Bytes()); err != nil {
				return 0, err
			}
			w.buf.Reset()
		}
		return w.enc.Write(b)
	}
	if w.pass {
		return w.ResponseWriter.Write(b)
	}
	return w.enc.Write(b)
}

func (w *compressWriter) start() {
	h := w.Header()
	h.Set("Content-Encoding", w.encoding)
	h.Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.code)
	w.enc, w.release = encoderFor(w.encoding, w.ResponseWriter)
	w.decided = true
}

// finish writes what is held back: a short body as it is, or the end of the compressed
// stream.
func (w *compressWriter) finish() {
	switch {
	case !w.decided && w.code != 0:
		w.ResponseWriter.WriteHeader(w.code)
		w.ResponseWriter.Write(w.buf.Bytes())
	case w.enc != nil:
		w.enc.Close()
		w.release()
		w.enc = nil
	}
}

// Flush sends what is buffered (streamed answers).
func (w *compressWriter) Flush() {
	if !w.decided && w.code == 0 {
		// Flushed before anything was written: the headers go now, without
		// Content-Encoding, so what follows must go as it is.
		w.decided, w.pass = true, true
	}
	if !w.decided && w.code != 0 {
		w.start()
		w.enc.Write(w.buf.Bytes())
		w.buf.Reset()
	}
	if w.enc != nil {
		w.enc.Flush()
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack lets a handler take the connection (never one that has written).
func (w *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// vary adds tokens to the response's Vary header, each once however many layers (the
// caller's scope, compression, the language of errors, a handler) ask for it. It runs on
// every request: it looks through the header as it is, without building anything.
func vary(h http.Header, tokens ...string) {
	for _, t := range tokens {
		if !varies(h, t) {
			h.Add("Vary", t)
		}
	}
}

// varies reports whether the Vary header names token already.
func varies(h http.Header, token string) bool {
	for _, v := range h.Values("Vary") {
		for v != "" {
			var part string
			part, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
