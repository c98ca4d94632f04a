package riskmap

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// APITokenPrefix starts the secret of every API token, so that a token is told from a
// password (HTTP Basic takes only tokens) and found by secret scanners.
const APITokenPrefix = "rmk_"

// NewToken returns 32 random bytes, base64url: the secret of a session or of an API token
// (after APITokenPrefix), or a CSRF token.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what a store keeps of a session's or API token's secret (hex SHA-256), so
// that a copy of the database hands out neither.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Validate checks a new API token: its name, its scope and the name of the user it acts
// as (UserName).
func (t *APIToken) Validate() error {
	var p Problems
	if t.Name == "" || len([]rune(t.Name)) > 64 {
		p.Add("name", "必填，最多 64 个字")
	}
	if !ValidTokenScope(t.Scope) {
		p.Add("scope", "应为空（以该用户身份操作）、\"metrics\"（只能读取 /metrics 与 /readyz）或 \"readings\"（设备令牌，只能写入监测读数）")
	}
	if t.UserName == "" {
		p.Add("user", "应为令牌所代表的用户名")
	}
	return p.Err()
}
