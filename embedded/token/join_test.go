package token

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

func TestJoinTokenFormat(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	j, secret, err := NewJoin(JoinOptions{TTL: time.Hour, NodePool: "beijing", OneTime: true, Description: "box"}, now)
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.Repeat("ab", 32)
	full := Token{CAHash: hash, ID: j.ID, Secret: secret}.String()
	if want := "K10" + hash + "::" + j.ID + "." + secret; full != want {
		t.Fatalf("String() = %q, want %q", full, want)
	}
	parsed, err := Parse(full)
	if err != nil || parsed.ID != j.ID || parsed.Secret != secret || parsed.CAHash != hash || parsed.User != "" {
		t.Fatalf("Parse(%q) = %+v, %v", full, parsed, err)
	}
	if len(j.ID) != 6 || len(secret) != 16 || !onlyAlphabet(j.ID+secret) {
		t.Errorf("id %q / secret %q are not 6 and 16 of [a-z0-9]", j.ID, secret)
	}
	sec := j.Secret()
	for k, v := range sec.Data {
		if strings.Contains(string(v), secret) {
			t.Errorf("Secret key %s holds the secret in clear", k)
		}
	}
	back, err := JoinFromSecret(sec)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != j.ID || back.SecretHash != j.SecretHash || !back.Expires.Equal(j.Expires) || back.NodePool != "beijing" || !back.OneTime || back.Description != "box" {
		t.Errorf("round trip through the Secret: got %+v, want %+v", back, j)
	}
	if _, _, err := NewJoin(JoinOptions{TTL: -time.Second}, now); err == nil {
		t.Error("a negative TTL was accepted")
	}
}

func TestJoinTokenCheck(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	j, secret, err := NewJoin(JoinOptions{TTL: time.Hour, OneTime: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	used := j
	used.Uses = 1
	forever, foreverSecret, _ := NewJoin(JoinOptions{}, now)
	cases := []struct {
		name   string
		j      Join
		secret string
		at     time.Time
		want   error
	}{
		{"right secret in time", j, secret, now.Add(59 * time.Minute), nil},
		{"wrong secret", j, strings.Repeat("a", 16), now, ErrWrongSecret},
		{"at expiry", j, secret, now.Add(time.Hour), ErrExpired},
		{"after expiry", j, secret, now.Add(2 * time.Hour), ErrExpired},
		{"one-time, used", used, secret, now, ErrUsed},
		{"no TTL, years later", forever, foreverSecret, now.Add(10 * 365 * 24 * time.Hour), nil},
	}
	for _, tc := range cases {
		err := tc.j.Check(tc.secret, tc.at)
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: Check = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestStoreUseCountsAndRefusesSecondOneTimeUse(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	store := Store{Client: cs}
	now := time.Now()
	j, secret, _ := NewJoin(JoinOptions{OneTime: true, TTL: time.Hour}, now)
	if err := store.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Use(ctx, j.ID, secret, now); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := store.Use(ctx, j.ID, secret, now); !errors.Is(err, ErrUsed) {
		t.Fatalf("second use: %v, want ErrUsed", err)
	}
	list, err := store.List(ctx)
	if err != nil || len(list) != 1 || list[0].Uses != 1 {
		t.Fatalf("List = %+v, %v; want one token used once", list, err)
	}
	if err := store.Revoke(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Use(ctx, j.ID, secret, now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("use after revoke: %v, want ErrNotFound", err)
	}
	if err := store.Revoke(ctx, j.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke twice: %v, want ErrNotFound", err)
	}
}
