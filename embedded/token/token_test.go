package token

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	cases := []struct {
		in      string
		want    Token
		wantErr string
	}{
		{"K10" + hash + "::server:s3cret", Token{CAHash: hash, User: "server", Secret: "s3cret"}, ""},
		{"K10" + hash + "::node:abc\n", Token{CAHash: hash, User: "node", Secret: "abc"}, ""},
		{"baresecret", Token{User: "server", Secret: "baresecret"}, ""},
		{"", Token{}, "token is empty"},
		{"K10" + hash + "server:x", Token{}, "has no '::'"},
		{"K10abc::server:x", Token{}, "not 64 hex characters"},
		{"K10" + hash + "::server", Token{}, "not <user>:<secret>"},
		{"a:b", Token{}, "neither"},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestEnsure(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n")
	path := filepath.Join(t.TempDir(), "token")

	generated, err := Ensure(path, ca, "")
	if err != nil {
		t.Fatal(err)
	}
	if generated.CAHash != CAHash(ca) || len(generated.Secret) != 32 {
		t.Fatalf("generated %+v", generated)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("token mode %o", fi.Mode().Perm())
	}
	again, err := Ensure(path, ca, "")
	if err != nil || again != generated {
		t.Fatalf("second Ensure = %+v, %v; want the stored token", again, err)
	}
	if same, err := Ensure(path, ca, generated.Secret); err != nil || same != generated {
		t.Fatalf("Ensure with the stored secret = %+v, %v", same, err)
	}
	if _, err := Ensure(path, ca, "other"); err == nil || !strings.Contains(err.Error(), "--token differs") {
		t.Fatalf("Ensure with another secret: %v", err)
	}
	newCA := []byte("rotated")
	rotated, err := Ensure(path, newCA, "")
	if err != nil || rotated.CAHash != CAHash(newCA) || rotated.Secret != generated.Secret {
		t.Fatalf("after CA change = %+v, %v", rotated, err)
	}

	chosen, err := Ensure(filepath.Join(t.TempDir(), "token"), ca, "mysecret")
	if err != nil || chosen.Secret != "mysecret" {
		t.Fatalf("chosen secret = %+v, %v", chosen, err)
	}
}
