package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("正确的密码 horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("want a PHC argon2id hash, got %s", h)
	}
	if ok, err := Verify(h, "正确的密码 horse battery"); !ok || err != nil {
		t.Fatalf("the right password must verify: %v %v", ok, err)
	}
	if ok, _ := Verify(h, "正确的密码 horse batterx"); ok {
		t.Fatal("a wrong password must not verify")
	}
	h2, _ := Hash("正确的密码 horse battery")
	if h2 == h {
		t.Fatal("hashes must be salted")
	}
}

func TestRejects(t *testing.T) {
	if _, err := Hash("short"); err == nil {
		t.Fatal("short passwords must be refused")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$YQ$YQ", "$argon2id$v=19$m=99999999,t=1,p=1$YQ$YQ", "$argon2id$v=19$m=8,t=1,p=1$!!$YQ"} {
		if ok, err := Verify(bad, "whatever-password"); ok || err == nil {
			t.Fatalf("%q must be refused as a hash", bad)
		}
	}
}

func TestGenerate(t *testing.T) {
	a, b := Generate(), Generate()
	if len(a) != 20 || a == b || Check(a) != nil {
		t.Fatalf("generated passwords must be 20 random characters: %q %q", a, b)
	}
}
