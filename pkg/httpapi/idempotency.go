package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
)

// Idempotency-Key (POST /api/v1/units and POST /api/v1/publications): a client that sends
// a creating write with the header and loses the
// answer (a timeout, a broken connection, a 503 while the database was away) sends the same
// request with the same key again. If the first one was written, the answer kept with it in
// its transaction is sent again, with Idempotent-Replayed: true, and nothing is written; if
// it was not, the retry writes. Keys are per user and kept for riskmap.IdempotencyTTL.

const maxIdempotencyKey = 255

// idempotency is a write's Idempotency-Key, whose it is, and what the request was.
type idempotency struct {
	scope, key, hash string
}

// idempotencyOf reads the request's Idempotency-Key, if it has one.
func (s *Server) idempotencyOf(c echo.Context, body []byte) (*idempotency, error) {
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" || userOf(c) == nil {
		return nil, nil
	}
	ok := len(key) <= maxIdempotencyKey
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] > ' ' && key[i] < 0x7f
	}
	if !ok {
		return nil, riskmap.Errorf(riskmap.EINVALID, "请求头 Idempotency-Key 无效").
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf("Idempotency-Key", "须为 1 到 255 个可见 ASCII 字符，例如一个 UUID")})
	}
	r := c.Request()
	h := sha256.New()
	h.Write([]byte(r.Method + "\n" + r.URL.Path + "\n"))
	h.Write(body)
	return &idempotency{scope: userOf(c).Name, key: key, hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// answer is the answer to keep for the key.
func (k *idempotency) answer(status int, contentType, location, etag string, body []byte, now time.Time) *riskmap.IdempotentResponse {
	return &riskmap.IdempotentResponse{Scope: k.scope, Key: k.key, RequestHash: k.hash, Status: status,
		ContentType: contentType, Location: location, ETag: etag, Body: body,
		CreatedAt: now, ExpiresAt: now.Add(riskmap.IdempotencyTTL)}
}

// replay answers the request with the answer kept for its key, if there is one, and
// reports whether it did (or failed). The same key with another request is refused.
func (s *Server) replay(c echo.Context, k *idempotency) (bool, error) {
	if k == nil {
		return false, nil
	}
	ctx := c.Request().Context()
	r, err := s.cfg.Store.IdempotentResponse(ctx, k.scope, k.key, s.now())
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	a := auditOf(c)
	a.action, a.before, a.after = "idempotency.replay", nil, nil
	if r.RequestHash != k.hash {
		a.detail = clip("Idempotency-Key " + k.key + " 已用于另一个请求")
		return true, &httpError{status: http.StatusUnprocessableEntity, code: "idempotency_key_reused",
			message: "这个 Idempotency-Key 已用于另一个请求：重试时请原样重发同一个请求；新的请求请换一个新的键"}
	}
	a.detail = clip("重发 Idempotency-Key " + k.key + " 的应答，没有再写入")
	if id, ok := strings.CutPrefix(r.Location, "/api/v1/units/"); ok {
		a.targetType, a.targetID = "unit", id
		// The first request may have been written and then answered with an error (its
		// commit's answer was lost): bring its unit into the index now.
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && s.cfg.Units != nil {
			if u, err := s.cfg.Store.GetUnit(ctx, n); err == nil {
				if _, err := s.cfg.Units.ApplyStored(u); err != nil {
					return true, err
				}
			}
		}
	}
	if id, ok := strings.CutPrefix(r.Location, "/api/v1/hazards/"); ok && s.cfg.Hazards != nil {
		// As for a unit: the hidden danger's unit reaches the index, however the first
		// answer went.
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			if err := s.cfg.Hazards.Reindex(ctx, n); err != nil {
				return true, err
			}
		}
	}
	if n, ok := strings.CutPrefix(r.Location, "/api/v1/publications/"); ok {
		a.targetType, a.targetID = "publication", n
		// As for a unit: the public map shows the publication, however its answer went.
		if err := s.LoadPublication(ctx); err != nil {
			return true, err
		}
	}
	h := c.Response().Header()
	if r.Location != "" {
		h.Set("Location", r.Location)
	}
	if r.ETag != "" {
		h.Set("ETag", r.ETag)
	}
	h.Set("Idempotent-Replayed", "true")
	return true, c.Blob(r.Status, r.ContentType, r.Body)
}
