// Package token reads and writes the cluster join token, in the format
// k3s made familiar: K10<sha256 of the server CA>::<user>:<secret>. The
// hash lets a joining node pin the CA it fetches before trusting it.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
)

const prefix = "K10"

// Token is a parsed join token: the server token (User "server") or a
// join token made by `velad token create` (ID set, K10<hash>::<id>.<secret>).
type Token struct {
	// CAHash is the hex sha256 of the server CA's PEM bytes; empty for a
	// bare secret.
	CAHash string
	User   string
	// ID names a join token (see Join); empty for the server token.
	ID     string
	Secret string
}

// String formats the token in its full form.
func (t Token) String() string {
	if t.ID != "" {
		return fmt.Sprintf("%s%s::%s.%s", prefix, t.CAHash, t.ID, t.Secret)
	}
	return fmt.Sprintf("%s%s::%s:%s", prefix, t.CAHash, t.User, t.Secret)
}

// CAHash returns the hash a token pins for the CA bundle caPEM.
func CAHash(caPEM []byte) string {
	sum := sha256.Sum256(caPEM)
	return hex.EncodeToString(sum[:])
}

// Parse reads a full token or a bare secret (which pins no CA).
func Parse(s string) (Token, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Token{}, errors.New("token is empty")
	}
	if !strings.HasPrefix(s, prefix) {
		if strings.ContainsAny(s, ": \t") {
			return Token{}, errors.New("token is neither K10<hash>::<user>:<secret> nor a bare secret")
		}
		return Token{User: "server", Secret: s}, nil
	}
	hash, creds, ok := strings.Cut(strings.TrimPrefix(s, prefix), "::")
	if !ok {
		return Token{}, errors.New("token starts with K10 but has no '::'; expected K10<hash>::<user>:<secret>")
	}
	if _, err := hex.DecodeString(hash); err != nil || len(hash) != 64 {
		return Token{}, errors.New("token CA hash is not 64 hex characters")
	}
	if id, secret, ok := strings.Cut(creds, "."); ok && validJoinID(id) && validJoinSecret(secret) {
		return Token{CAHash: hash, ID: id, Secret: secret}, nil
	}
	user, secret, ok := strings.Cut(creds, ":")
	if !ok || user == "" || secret == "" {
		return Token{}, errors.New("token credentials are not <user>:<secret> nor <id>.<secret> (6 and 16 characters a-z0-9)")
	}
	return Token{CAHash: hash, User: user, Secret: secret}, nil
}

// Ensure makes sure path holds the server token for the CA caPEM and
// returns it. requested is the user's --token (a bare secret or a full
// token); empty keeps the stored secret or generates one. Asking for a
// different secret than the stored one is an error: nodes joined with the
// old one would be locked out.
func Ensure(path string, caPEM []byte, requested string) (Token, error) {
	var want Token
	if requested != "" {
		t, err := Parse(requested)
		if err != nil {
			return Token{}, fmt.Errorf("--token: %w", err)
		}
		want = t
	}
	hash := CAHash(caPEM)
	stored, err := read(path)
	switch {
	case err == nil:
		if requested != "" && want.Secret != stored.Secret {
			return Token{}, fmt.Errorf("--token differs from the token this server was set up with (%s); pass that token or leave --token out", path)
		}
		if requested != "" && want.CAHash != "" && want.CAHash != hash {
			return Token{}, errors.New("--token pins a different CA than this server's; copy the token from `velad token`")
		}
		want = stored
	case errors.Is(err, os.ErrNotExist):
		if want.Secret == "" {
			want.Secret, err = randomSecret()
			if err != nil {
				return Token{}, fmt.Errorf("generate token: %w", err)
			}
		}
	default:
		return Token{}, fmt.Errorf("token file %s is unreadable (%v); restore it or remove it together with --token <original secret>", path, err)
	}
	want.CAHash, want.User = hash, "server"
	if _, err := fileutil.WriteIfChanged(path, []byte(want.String()+"\n"), config.SecretFileMode); err != nil {
		return Token{}, fmt.Errorf("write token: %w", err)
	}
	return want, nil
}

func read(path string) (Token, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Token{}, err
	}
	return Parse(string(data))
}

func randomSecret() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
