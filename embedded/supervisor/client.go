package supervisor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/velad-dev/velad/embedded/token"
)

// Refused is the server's refusal of a join: retrying does not help.
type Refused struct{ Message string }

func (e *Refused) Error() string { return "the server refused to join this node: " + e.Message }

// FetchCA fetches the server CA from the supervisor at url without
// trusting it, and keeps it only if its hash is the one the token pins.
// Nothing secret is sent before that check.
func FetchCA(ctx context.Context, url string, tok token.Token) ([]byte, error) {
	if tok.CAHash == "" {
		return nil, &Refused{Message: "the token pins no CA (a bare secret); use the full K10<hash>::… token from `velad token` or `velad token create`"}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		// The CA is not known yet; what the server sends is checked
		// against the token's hash below before anything trusts it.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // verified by hash
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+PathCACerts, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the server at %s: %w", url, err)
	}
	defer resp.Body.Close()
	ca, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the CA from %s: status %d %v", url, resp.StatusCode, err)
	}
	if got := token.CAHash(ca); got != tok.CAHash {
		return nil, &Refused{Message: fmt.Sprintf("the server at %s has CA hash %s…, the token pins %s…: this is not the server the token was made for (or the token is for another cluster)", url, got[:12], tok.CAHash[:12])}
	}
	return ca, nil
}

// Join posts req to the supervisor at url, trusting only ca.
func Join(ctx context.Context, url string, ca []byte, tok token.Token, req JoinRequest) (*JoinResponse, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("the server CA is not PEM")
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+PathJoin, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	user := tok.User
	if tok.ID != "" {
		user = tok.ID
	}
	hr.SetBasicAuth(user, tok.Secret)
	hr.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("join through %s: %w", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("join through %s: %w", url, err)
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		var r Refusal
		if json.Unmarshal(data, &r) != nil || r.Message == "" {
			r.Message = strings.TrimSpace(string(data))
		}
		return nil, &Refused{Message: r.Message}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("join through %s: status %d: %s", url, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	var out JoinResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("join through %s: bad answer: %w", url, err)
	}
	return &out, nil
}

// Leave asks the supervisor at url, trusting only ca, to delete the node
// the password proves.
func Leave(ctx context.Context, url string, ca []byte, req LeaveRequest) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return errors.New("the server CA is not PEM")
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+PathLeave, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := client.Do(hr)
	if err != nil {
		return fmt.Errorf("reach the server at %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotFound {
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var r Refusal
	if json.Unmarshal(data, &r) != nil || r.Message == "" {
		r.Message = strings.TrimSpace(string(data))
	}
	return fmt.Errorf("the server refused to delete the node: %s", r.Message)
}
