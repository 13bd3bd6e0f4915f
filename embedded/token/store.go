package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ErrNotFound: no join token has this ID (never made, or revoked).
var ErrNotFound = errors.New("no such join token (revoked, or never made)")

// Store keeps join tokens as Secrets in the cluster.
type Store struct {
	Client kubernetes.Interface
}

// Create stores j.
func (s Store) Create(ctx context.Context, j Join) error {
	if _, err := s.Client.CoreV1().Secrets(Namespace).Create(ctx, j.Secret(), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("store join token: %w", err)
	}
	return nil
}

// Get reads the token id.
func (s Store) Get(ctx context.Context, id string) (Join, error) {
	sec, err := s.Client.CoreV1().Secrets(Namespace).Get(ctx, SecretPrefix+id, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Join{}, ErrNotFound
	}
	if err != nil {
		return Join{}, fmt.Errorf("read join token %s: %w", id, err)
	}
	return JoinFromSecret(sec)
}

// List returns every join token, oldest first.
func (s Store) List(ctx context.Context) ([]Join, error) {
	list, err := s.Client.CoreV1().Secrets(Namespace).List(ctx, metav1.ListOptions{FieldSelector: "type=" + string(SecretType)})
	if err != nil {
		return nil, fmt.Errorf("list join tokens: %w", err)
	}
	var out []Join
	for i := range list.Items {
		j, err := JoinFromSecret(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b Join) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// Revoke deletes the token id.
func (s Store) Revoke(ctx context.Context, id string) error {
	err := s.Client.CoreV1().Secrets(Namespace).Delete(ctx, SecretPrefix+id, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("join token %s: %w; see `velad token list`", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke join token %s: %w", id, err)
	}
	return nil
}

// Use checks secret against the token id at now and counts one use. The
// count is written with the Secret's resource version, so two agents
// racing for a one-time token cannot both win.
func (s Store) Use(ctx context.Context, id, secret string, now time.Time) (Join, error) {
	sec, err := s.Client.CoreV1().Secrets(Namespace).Get(ctx, SecretPrefix+id, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Join{}, ErrNotFound
	}
	if err != nil {
		return Join{}, fmt.Errorf("read join token %s: %w", id, err)
	}
	j, err := JoinFromSecret(sec)
	if err != nil {
		return Join{}, err
	}
	if err := j.Check(secret, now); err != nil {
		return Join{}, err
	}
	j.Uses++
	sec.Data[keyUses] = []byte(strconv.Itoa(j.Uses))
	if _, err := s.Client.CoreV1().Secrets(Namespace).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) && j.OneTime {
			return Join{}, ErrUsed
		}
		return Join{}, fmt.Errorf("count a use of join token %s: %w", id, err)
	}
	return j, nil
}
