package supervisor

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/pki"
	"github.com/velad-dev/velad/embedded/token"
)

// Pool is what a node in a pool registers with.
type Pool struct {
	Labels []string
	Taints []string
}

// ErrNoPool: the NodePool does not exist.
var ErrNoPool = errors.New("no such NodePool")

// PoolLookup returns the NodePool name, or ErrNoPool.
type PoolLookup func(ctx context.Context, name string) (Pool, error)

// Handler serves the supervisor API.
type Handler struct {
	Client      kubernetes.Interface
	PKI         pki.Spec
	ServerToken token.Token
	// Cluster holds the settings every node gets; the pool fields are
	// filled per node.
	Cluster ClusterSettings
	Pools   PoolLookup
	Now     func() time.Time
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case PathPing:
		_, _ = io.WriteString(w, "pong")
	case PathCACerts:
		ca, err := h.PKI.ReadCert(pki.ServerCA)
		if err != nil {
			http.Error(w, "CA unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(ca)
	case PathJoin:
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		h.join(w, r)
	case PathLeave:
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		h.leave(w, r)
	default:
		http.NotFound(w, r)
	}
}

// refusal is an error with the HTTP status it answers with.
type refusal struct {
	status int
	msg    string
}

func (e *refusal) Error() string { return e.msg }

func refuse(status int, format string, args ...any) error {
	return &refusal{status: status, msg: fmt.Sprintf(format, args...)}
}

func (h *Handler) join(w http.ResponseWriter, r *http.Request) {
	var req JoinRequest
	resp, err := h.decodeAndJoin(r, &req)
	if err != nil {
		status, msg := http.StatusInternalServerError, "the server failed to register the node; see its log"
		var ref *refusal
		if errors.As(err, &ref) {
			status, msg = ref.status, ref.msg
		}
		// Never the token's secret: only what the agent sent as a name.
		klog.Warningf("supervisor: refused node %q from %s: %v", req.NodeName, r.RemoteAddr, err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(Refusal{Message: msg})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// leave deletes a node whose node password the request proves, and then
// its password: the name is free again.
func (h *Handler) leave(w http.ResponseWriter, r *http.Request) {
	var req LeaveRequest
	err := func() error {
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<12)).Decode(&req); err != nil {
			return refuse(http.StatusBadRequest, "bad leave request: %v", err)
		}
		if errs := validation.IsDNS1123Subdomain(req.NodeName); len(errs) > 0 {
			return refuse(http.StatusBadRequest, "node name %q is not valid", req.NodeName)
		}
		ctx := r.Context()
		sec, err := h.Client.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, NodePasswordSecret(req.NodeName), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return refuse(http.StatusNotFound, "node %q is not registered here", req.NodeName)
		}
		if err != nil {
			return err
		}
		if !CheckPassword(string(sec.Data[hashKey]), req.NodePassword) {
			return refuse(http.StatusForbidden, "node password mismatch for %q", req.NodeName)
		}
		if err := h.Client.CoreV1().Nodes().Delete(ctx, req.NodeName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return DeleteNodePassword(ctx, h.Client, req.NodeName)
	}()
	if err != nil {
		status, msg := http.StatusInternalServerError, "the server failed to delete the node; see its log"
		var ref *refusal
		if errors.As(err, &ref) {
			status, msg = ref.status, ref.msg
		}
		klog.Warningf("supervisor: refused to delete node %q for %s: %v", req.NodeName, r.RemoteAddr, err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(Refusal{Message: msg})
		return
	}
	klog.Infof("supervisor: node %q left (from %s)", req.NodeName, r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) decodeAndJoin(r *http.Request, req *JoinRequest) (*JoinResponse, error) {
	user, secret, ok := r.BasicAuth()
	if !ok {
		return nil, refuse(http.StatusUnauthorized, "no token given")
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(req); err != nil {
		return nil, refuse(http.StatusBadRequest, "bad join request: %v", err)
	}
	if errs := validation.IsDNS1123Subdomain(req.NodeName); len(errs) > 0 {
		return nil, refuse(http.StatusBadRequest, "node name %q is not valid: %v", req.NodeName, errs[0])
	}
	var ips []net.IP
	for _, s := range req.NodeIPs {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, refuse(http.StatusBadRequest, "node IP %q is not an IP address", s)
		}
		ips = append(ips, ip)
	}
	ctx := r.Context()
	now := h.now()
	pool := req.NodePool
	var join *token.Join
	switch {
	case user == "server":
		if subtle.ConstantTimeCompare([]byte(secret), []byte(h.ServerToken.Secret)) != 1 {
			return nil, refuse(http.StatusUnauthorized, "the token is wrong; copy it from `velad token` or `velad token create` on the server")
		}
	default:
		j, err := token.Store{Client: h.Client}.Get(ctx, user)
		if errors.Is(err, token.ErrNotFound) {
			return nil, refuse(http.StatusUnauthorized, "the token is unknown or was revoked; make a new one with `velad token create` on the server")
		}
		if err != nil {
			return nil, err
		}
		if err := j.Check(secret, now); err != nil {
			return nil, tokenRefusal(err)
		}
		if j.NodePool != "" && pool != "" && pool != j.NodePool {
			return nil, refuse(http.StatusForbidden, "the token is bound to node pool %q, not %q; leave --node-pool out or use a token for %q", j.NodePool, pool, pool)
		}
		if j.NodePool != "" {
			pool = j.NodePool
		}
		join = &j
	}
	settings := h.Cluster
	if pool != "" {
		p, err := h.Pools(ctx, pool)
		if errors.Is(err, ErrNoPool) {
			return nil, refuse(http.StatusBadRequest, "NodePool %q does not exist; create it on the server first (see examples/edge)", pool)
		}
		if err != nil {
			return nil, err
		}
		settings.NodePool, settings.NodeLabels, settings.NodeTaints = pool, p.Labels, p.Taints
	}
	certs, err := h.sign(req, ips)
	if err != nil {
		return nil, err
	}
	if err := EnsureNodePassword(ctx, h.Client, req.NodeName, req.NodePassword); err != nil {
		if errors.Is(err, ErrNodePassword) {
			return nil, refuse(http.StatusForbidden, "node name %q is registered by another machine; pick another --node-name, or delete that node (velad kubectl delete node %s) first", req.NodeName, req.NodeName)
		}
		return nil, err
	}
	if join != nil {
		if _, err := (token.Store{Client: h.Client}).Use(ctx, join.ID, secret, now); err != nil {
			return nil, tokenRefusal(err)
		}
	}
	serverCA, err := h.PKI.ReadCert(pki.ServerCA)
	if err != nil {
		return nil, err
	}
	clientCA, err := h.PKI.ReadCert(pki.ClientCA)
	if err != nil {
		return nil, err
	}
	klog.Infof("supervisor: node %q joined from %s (pool %q)", req.NodeName, r.RemoteAddr, pool)
	return &JoinResponse{ServerCA: string(serverCA), ClientCA: string(clientCA), Certs: certs, Cluster: settings}, nil
}

func (h *Handler) sign(req *JoinRequest, ips []net.IP) (map[string]string, error) {
	certs := map[string]string{}
	for name, want := range pki.NodeRequests(req.NodeName, ips) {
		csr, ok := req.CSRs[name]
		if !ok {
			return nil, refuse(http.StatusBadRequest, "join request has no certificate request for %s", name)
		}
		cert, err := h.PKI.SignCSR([]byte(csr), want)
		if err != nil {
			return nil, refuse(http.StatusBadRequest, "certificate request for %s: %v", name, err)
		}
		certs[name] = string(cert)
	}
	return certs, nil
}

func tokenRefusal(err error) error {
	switch {
	case errors.Is(err, token.ErrWrongSecret):
		return refuse(http.StatusUnauthorized, "the token is wrong; copy it again from `velad token create`")
	case errors.Is(err, token.ErrExpired):
		return refuse(http.StatusUnauthorized, "%v; make a new one with `velad token create`", err)
	case errors.Is(err, token.ErrUsed):
		return refuse(http.StatusUnauthorized, "%v; make a new one with `velad token create`", err)
	case errors.Is(err, token.ErrNotFound):
		return refuse(http.StatusUnauthorized, "the token is unknown or was revoked; make a new one with `velad token create`")
	}
	return err
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
