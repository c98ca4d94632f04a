package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
)

// bodyRule is what a route accepts as a request body and how long it may take: the media
// types, the largest size, and the time the client has to send it and to read the answer.
// Every route has one: JSON bodies of at most Config.MaxBodyBytes by default; uploads and
// streams register their own with bodyRuleFor.
type bodyRule struct {
	types    []string      // accepted media types (no parameters); nil: no body at all
	maxBytes int64         // larger declared or sent bodies get 413
	read     time.Duration // from the end of the headers to the end of the body
	write    time.Duration // from the end of the headers to the end of the response
}

// jsonTypes are the media types of the JSON routes. A JSON body sent as text/plain (which a
// form on another site can send without a preflight) is refused with 415.
var jsonTypes = []string{"application/json", "application/geo+json"}

// Timeouts bounds how long a client may take. Zero values take the defaults.
type Timeouts struct {
	// Header is the time to send the request line and headers (default 10 s).
	Header time.Duration
	// Body is the time to send a JSON body once the headers are in (default 30 s).
	Body time.Duration
	// Write is the time the server has to write a response to a client that reads slowly
	// (default 2 minutes: a CSV export of the whole register to a slow link).
	Write time.Duration
	// Idle ends a keep-alive connection that sends no new request (default 2 minutes).
	Idle time.Duration
}

func (t *Timeouts) defaults() {
	orDefault(&t.Header, 10*time.Second)
	orDefault(&t.Body, 30*time.Second)
	orDefault(&t.Write, 2*time.Minute)
	orDefault(&t.Idle, 2*time.Minute)
}

// orDefault sets a setting that is zero or less to its default.
func orDefault(v *time.Duration, d time.Duration) {
	if *v <= 0 {
		*v = d
	}
}

// ruleForBody returns the body rule of a route.
func (s *Server) ruleForBody(method, path string) bodyRule {
	if r, ok := s.bodyRules[method+" "+path]; ok {
		return r
	}
	return bodyRule{types: jsonTypes, maxBytes: s.cfg.MaxBodyBytes, read: s.cfg.Timeouts.Body, write: s.cfg.Timeouts.Write}
}

// limitBody applies the route's body rule before any handler or credential check runs: a
// declared length over the limit gets 413 at once, without reading a byte of it; a body of
// the wrong media type gets 415; the body must arrive within the route's time, and the
// response be read within its own. The connection's deadlines are set per request, so an
// upload route can allow minutes where a JSON route allows seconds.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		rule := s.ruleForBody(r.Method, c.Path())
		rc := http.NewResponseController(c.Response().Writer)
		now := time.Now()
		// Errors mean the writer cannot set deadlines (a test recorder): nothing to bound.
		_ = rc.SetWriteDeadline(now.Add(rule.write))
		hasBody := r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
		if !hasBody {
			// Nothing more to read: lift the server's read timeout, which would otherwise
			// cancel a long answer's context (net/http's background read times out).
			_ = rc.SetReadDeadline(time.Time{})
			return next(c)
		}
		_ = rc.SetReadDeadline(now.Add(rule.read))
		if rule.types == nil {
			return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
				message: "此接口不接受请求体"}
		}
		if r.ContentLength > rule.maxBytes {
			c.Response().Header().Set("Connection", "close")
			return riskmap.Errorf(riskmap.ETOOLARGE, "请求体过大：声明 %d 字节，此接口上限 %d 字节", r.ContentLength, rule.maxBytes)
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || !acceptsType(rule.types, mt) {
			got := r.Header.Get("Content-Type")
			if got == "" {
				got = "（未声明）"
			}
			return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
				message: "不支持的请求体类型 %s，请使用 Content-Type: %s", args: []any{clip(got), strings.Join(rule.types, " 或 ")}}
		}
		r.Body = http.MaxBytesReader(c.Response().Writer, r.Body, rule.maxBytes)
		return next(c)
	}
}

func acceptsType(types []string, mt string) bool {
	for _, t := range types {
		if strings.EqualFold(t, mt) {
			return true
		}
	}
	return false
}

// bodyReadError turns a failure to read a request body into the client's error: too large
// (413), too slow (408), or cut off (400).
func bodyReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return riskmap.Errorf(riskmap.ETOOLARGE, "请求体过大：此接口上限 %d 字节", mbe.Limit)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &httpError{status: http.StatusRequestTimeout, code: "request_timeout", message: "请求体发送超时：客户端未在规定时间内发完请求体"}
	}
	return riskmap.Errorf(riskmap.EINVALID, "请求体读取失败：连接中断或数据不完整")
}

// decodeError says, in the user's words, what is wrong with a JSON body: which field has the
// wrong type and what it should be, or where the syntax breaks. Go's own error text (struct
// and type names) never reaches the client.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return riskmap.Errorf(riskmap.EINVALID, "请求体应为 %s，收到的是%s", jsonKind(te.Type), jsonValueName(te.Value))
		}
		return riskmap.Errorf(riskmap.EINVALID, "请求体有字段类型错误").
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf(field, "应为%s，收到的是%s", jsonKind(te.Type), jsonValueName(te.Value))})
	case errors.As(err, &se):
		return riskmap.Errorf(riskmap.EINVALID, "请求体不是有效的 JSON（第 %d 字节附近）", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input"):
		return riskmap.Errorf(riskmap.EINVALID, "请求体不是完整的 JSON")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return riskmap.Errorf(riskmap.EINVALID, "请求体有未知字段").
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf(strings.Trim(f, `"`), "不是此接口的字段")})
	}
	return riskmap.Errorf(riskmap.EINVALID, "请求体不是此接口要求的 JSON 对象")
}

// jsonKind names a Go type as the JSON a client should send.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "文本（字符串）"
	case reflect.Bool:
		return "true 或 false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "整数"
	case reflect.Float32, reflect.Float64:
		return "数字"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "文本数组"
		}
		return "数组"
	case reflect.Map, reflect.Struct:
		return "JSON 对象"
	}
	return "其他类型"
}

// jsonValueName names the JSON value json.UnmarshalTypeError reports ("number", "string"…).
func jsonValueName(v string) string {
	switch {
	case v == "string":
		return "文本"
	case v == "bool":
		return "布尔值"
	case v == "array":
		return "数组"
	case v == "object":
		return "JSON 对象"
	case v == "number" || strings.HasPrefix(v, "number "):
		return "数字"
	}
	return v
}

// retryAfter marks a 503 with when to try again.
func retryAfter(c echo.Context, d time.Duration) {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(d/time.Second)+1))
}
