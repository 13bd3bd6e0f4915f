package supervisor

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/scrypt"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Node passwords, k3s's scheme: the first join of a node name records the
// scrypt hash of the node's random password in an immutable Secret
// kube-system/<node>.node-password.velad; later joins of that name must
// present the same password, so another machine cannot take the name
// over. The Secret goes when the Node is deleted.
const (
	passwordSuffix = ".node-password.velad"
	passwordType   = corev1.SecretType("velad.dev/node-password")
	hashKey        = "hash"
)

// ErrNodePassword: the name belongs to another machine.
var ErrNodePassword = errors.New("node password mismatch")

// NodePasswordSecret names the Secret of a node's password.
func NodePasswordSecret(node string) string { return node + passwordSuffix }

// HashPassword hashes a node password with a random salt.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum, err := scryptKey(password, salt)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return "scrypt$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(sum), nil
}

// CheckPassword reports whether password matches hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 3 || parts[0] != "scrypt" {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[1])
	want, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := scryptKey(password, salt)
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

func scryptKey(password string, salt []byte) ([]byte, error) {
	return scrypt.Key([]byte(password), salt, 1<<15, 8, 1, 32)
}

// EnsureNodePassword checks password against the recorded hash for node,
// or records it when the name is new.
func EnsureNodePassword(ctx context.Context, cs kubernetes.Interface, node, password string) error {
	if len(password) < 16 {
		return errors.New("node password too short")
	}
	secrets := cs.CoreV1().Secrets(metav1.NamespaceSystem)
	existing, err := secrets.Get(ctx, NodePasswordSecret(node), metav1.GetOptions{})
	switch {
	case err == nil:
		if !CheckPassword(string(existing.Data[hashKey]), password) {
			return ErrNodePassword
		}
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("read node password of %s: %w", node, err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	immutable := true
	_, err = secrets.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: NodePasswordSecret(node), Namespace: metav1.NamespaceSystem},
		Type:       passwordType,
		Immutable:  &immutable,
		Data:       map[string][]byte{hashKey: []byte(hash)},
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return ErrNodePassword // another machine won the race for the name
	}
	if err != nil {
		return fmt.Errorf("record node password of %s: %w", node, err)
	}
	return nil
}

// DeleteNodePassword forgets node's password (its Node is gone).
func DeleteNodePassword(ctx context.Context, cs kubernetes.Interface, node string) error {
	err := cs.CoreV1().Secrets(metav1.NamespaceSystem).Delete(ctx, NodePasswordSecret(node), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}
