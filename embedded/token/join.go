package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Join tokens are made by `velad token create` for agents only, in the
// spirit of kubeadm's bootstrap tokens: an <id>.<secret> pair, stored in a
// Secret in kube-system with the secret hashed (never in clear), with an
// optional expiry, a one-time flag and a node pool the token binds its
// agents to. Revoking a token deletes its Secret.
const (
	// Namespace and SecretType of the Secrets holding join tokens.
	Namespace  = "kube-system"
	SecretType = corev1.SecretType("velad.dev/join-token")
	// SecretPrefix + ID names a token's Secret.
	SecretPrefix = "velad-join-token-"

	idLen     = 6
	secretLen = 16
	alphabet  = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// Keys of a join token's Secret.
const (
	keyID          = "token-id"
	keySecretHash  = "secret-sha256"
	keyExpires     = "expiration"
	keyNodePool    = "node-pool"
	keyOneTime     = "one-time"
	keyDescription = "description"
	keyUses        = "uses"
)

// Errors Check returns; the supervisor maps them to clear refusals.
var (
	ErrWrongSecret = errors.New("the token's secret is wrong")
	ErrExpired     = errors.New("the token has expired")
	ErrUsed        = errors.New("the one-time token has already been used")
)

// Join is a join token as stored: everything but the secret.
type Join struct {
	ID         string
	SecretHash string
	// Expires is when the token stops working; zero: never.
	Expires     time.Time
	NodePool    string
	OneTime     bool
	Description string
	Uses        int
	Created     time.Time
}

// JoinOptions are what `velad token create` asks for.
type JoinOptions struct {
	TTL         time.Duration // 0: never expires
	NodePool    string
	OneTime     bool
	Description string
}

// NewJoin makes a join token: the stored form and the secret, which is
// shown once and never stored.
func NewJoin(opts JoinOptions, now time.Time) (Join, string, error) {
	if opts.TTL < 0 {
		return Join{}, "", fmt.Errorf("--ttl %s is negative; give a duration such as 24h, or 0 for a token that does not expire", opts.TTL)
	}
	id, err := randomString(idLen)
	if err != nil {
		return Join{}, "", err
	}
	secret, err := randomString(secretLen)
	if err != nil {
		return Join{}, "", err
	}
	j := Join{ID: id, SecretHash: hashSecret(secret), NodePool: opts.NodePool, OneTime: opts.OneTime, Description: opts.Description, Created: now.UTC().Truncate(time.Second)}
	if opts.TTL > 0 {
		j.Expires = now.Add(opts.TTL).UTC().Truncate(time.Second)
	}
	return j, secret, nil
}

// Check says whether secret opens this token at time now.
func (j Join) Check(secret string, now time.Time) error {
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(j.SecretHash)) != 1 {
		return ErrWrongSecret
	}
	if !j.Expires.IsZero() && !now.Before(j.Expires) {
		return fmt.Errorf("%w (at %s)", ErrExpired, j.Expires.Format(time.RFC3339))
	}
	if j.OneTime && j.Uses > 0 {
		return ErrUsed
	}
	return nil
}

// Secret is the Secret that stores j.
func (j Join) Secret() *corev1.Secret {
	data := map[string][]byte{
		keyID:         []byte(j.ID),
		keySecretHash: []byte(j.SecretHash),
		keyUses:       []byte(strconv.Itoa(j.Uses)),
	}
	if !j.Expires.IsZero() {
		data[keyExpires] = []byte(j.Expires.Format(time.RFC3339))
	}
	if j.NodePool != "" {
		data[keyNodePool] = []byte(j.NodePool)
	}
	if j.OneTime {
		data[keyOneTime] = []byte("true")
	}
	if j.Description != "" {
		data[keyDescription] = []byte(j.Description)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: SecretPrefix + j.ID, Namespace: Namespace, Labels: map[string]string{"velad.dev/join-token": "true"}},
		Type:       SecretType,
		Data:       data,
	}
}

// JoinFromSecret reads a join token back from its Secret.
func JoinFromSecret(s *corev1.Secret) (Join, error) {
	if s.Type != SecretType {
		return Join{}, fmt.Errorf("secret %s/%s is not a join token (type %q)", s.Namespace, s.Name, s.Type)
	}
	d := s.Data
	j := Join{
		ID:          string(d[keyID]),
		SecretHash:  string(d[keySecretHash]),
		NodePool:    string(d[keyNodePool]),
		OneTime:     string(d[keyOneTime]) == "true",
		Description: string(d[keyDescription]),
		Created:     s.CreationTimestamp.UTC(),
	}
	if !validJoinID(j.ID) || len(j.SecretHash) != 64 {
		return Join{}, fmt.Errorf("secret %s/%s is a damaged join token (id or hash); revoke it", s.Namespace, s.Name)
	}
	if v := d[keyExpires]; len(v) > 0 {
		t, err := time.Parse(time.RFC3339, string(v))
		if err != nil {
			return Join{}, fmt.Errorf("secret %s/%s: expiration %q: %w", s.Namespace, s.Name, v, err)
		}
		j.Expires = t
	}
	if v := d[keyUses]; len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return Join{}, fmt.Errorf("secret %s/%s: uses %q: %w", s.Namespace, s.Name, v, err)
		}
		j.Uses = n
	}
	return j, nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

func validJoinID(s string) bool     { return len(s) == idLen && onlyAlphabet(s) }
func validJoinSecret(s string) bool { return len(s) == secretLen && onlyAlphabet(s) }

func onlyAlphabet(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
