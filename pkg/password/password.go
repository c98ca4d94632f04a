// Package password hashes and checks passwords with argon2id (RFC 9106), in the PHC string
// format, and generates passwords for first starts.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Parameters of new hashes: RFC 9106's second recommended option (64 MiB, 3 passes).
const (
	memoryKiB = 64 * 1024
	passes    = 3
	threads   = 2
	keyLen    = 32
	saltLen   = 16
	// MinLength is the shortest password accepted.
	MinLength = 10
	// MaxLength bounds the work an attacker can ask for.
	MaxLength = 256
)

var b64 = base64.RawStdEncoding

// Check reports what is wrong with a new password, or nil.
func Check(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinLength {
		return fmt.Errorf("密码至少 %d 个字符", MinLength)
	}
	if len(pw) > MaxLength {
		return fmt.Errorf("密码最多 %d 字节", MaxLength)
	}
	return nil
}

// Hash returns the argon2id hash of pw in PHC format.
func Hash(pw string) (string, error) {
	if err := Check(pw); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches the hash, in constant time for a given hash.
func Verify(hash, pw string) (bool, error) {
	if len(pw) > MaxLength {
		return false, nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("password: not an argon2id hash")
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errors.New("password: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 100 {
		return false, errors.New("password: bad argon2 parameters")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errors.New("password: bad salt")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, errors.New("password: bad key")
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Generate returns a random password of 20 characters from an alphabet without look-alikes.
func Generate() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	r := make([]byte, 1)
	for i := range b {
		for {
			if _, err := rand.Read(r); err != nil {
				panic(err) // crypto/rand never fails on supported platforms
			}
			if int(r[0]) < 256-256%len(alphabet) {
				b[i] = alphabet[int(r[0])%len(alphabet)]
				break
			}
		}
	}
	return string(b)
}
