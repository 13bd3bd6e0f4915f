package task

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The http provider: one request, with a timeout and a bounded response.

type httpParams struct {
	Method  string `json:"method"`
	URL     string `json:"url"`
	Request struct {
		Timeout           string            `json:"timeout"`
		Body              string            `json:"body"`
		Header            map[string]string `json:"header"`
		Trailer           map[string]string `json:"trailer"`
		HeadersFromSecret []struct {
			Header string `json:"header"`
			Secret string `json:"secret"`
			Key    string `json:"key"`
		} `json:"headersFromSecret"`
	} `json:"request"`
}

func (r *runner) httpDo(ctx context.Context, a *action) (map[string]any, error) {
	var p httpParams
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	timeout := HTTPTimeout
	if p.Request.Timeout != "" {
		d, err := time.ParseDuration(p.Request.Timeout)
		if err != nil || d <= 0 {
			return nil, permanentf("InvalidAction", "request.timeout %q is not a duration like 5s", p.Request.Timeout)
		}
		timeout = min(d, MaxHTTPTimeout)
	}
	if p.Method == "" {
		p.Method = http.MethodGet
	}
	if !strings.HasPrefix(p.URL, "http://") && !strings.HasPrefix(p.URL, "https://") {
		return nil, permanentf("InvalidAction", "url %q: want an http:// or https:// URL", r.redact(p.URL))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if p.Request.Body != "" {
		body = strings.NewReader(p.Request.Body)
	}
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, body)
	if err != nil {
		return nil, permanentf("InvalidAction", "request: %v", err)
	}
	for k, v := range p.Request.Header {
		req.Header.Set(k, v)
	}
	for _, h := range p.Request.HeadersFromSecret {
		v, err := r.secretKey(ctx, h.Secret, h.Key)
		if err != nil {
			return nil, err
		}
		req.Header.Set(h.Header, v)
	}
	if len(p.Request.Trailer) > 0 {
		req.Trailer = http.Header{}
		for k, v := range p.Request.Trailer {
			req.Trailer.Set(k, v)
		}
	}
	c := r.env.HTTP
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		// The URL may hold a secret: the error names the host only.
		var what string
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			what = fmt.Sprintf("no response within %s", timeout)
		default:
			what = "the request failed: " + unwrapURLError(err)
		}
		return nil, permanentf("RequestFailed", "%s %s: %s", p.Method, req.URL.Host, what)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, permanentf("RequestFailed", "%s %s: reading the response: %v", p.Method, req.URL.Host, err)
	}
	if len(data) > MaxResponse {
		return nil, permanentf("ResponseTooLarge", "%s %s: the response is larger than %d bytes", p.Method, req.URL.Host, MaxResponse)
	}
	header := map[string]any{}
	for k, v := range resp.Header {
		header[k] = v
	}
	return map[string]any{"body": string(data), "statusCode": resp.StatusCode, "header": header}, nil
}

// unwrapURLError drops the URL (*url.Error) from err's text.
func unwrapURLError(err error) string {
	var u interface{ Unwrap() error }
	if errors.As(err, &u) {
		if inner := u.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

// secretKey reads key of Secret name in the application's namespace.
func (r *runner) secretKey(ctx context.Context, name, key string) (string, error) {
	s := &corev1.Secret{}
	if err := r.env.Reader.Get(ctx, types.NamespacedName{Namespace: r.env.Namespace, Name: name}, s); err != nil {
		return "", permanentf("SecretNotFound", "secret %q: %v", name, err)
	}
	v, ok := s.Data[key]
	if !ok {
		return "", permanentf("SecretNotFound", "secret %q has no key %q", name, key)
	}
	r.secret(string(v), base64.StdEncoding.EncodeToString(v))
	return string(v), nil
}
