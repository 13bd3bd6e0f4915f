// Package loadbalancer is an agent's local TCP proxy to the API server,
// as k3s has: the kubelet and kube-proxy talk to 127.0.0.1:<port>, and
// only the proxy needs the server's address.
package loadbalancer

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// LB forwards every connection on Listen to Backend.
type LB struct {
	Listen  string
	Backend string

	l    net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]struct{}
}

// Start listens and forwards until Close.
func (lb *LB) Start() error {
	l, err := net.Listen("tcp", lb.Listen)
	if err != nil {
		return err
	}
	lb.l = l
	lb.open = map[net.Conn]struct{}{}
	lb.wg.Add(1)
	go func() {
		defer lb.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			lb.wg.Add(1)
			go func() {
				defer lb.wg.Done()
				lb.forward(c)
			}()
		}
	}()
	return nil
}

// Addr is where it listens, once started.
func (lb *LB) Addr() string { return lb.l.Addr().String() }

func (lb *LB) track(c net.Conn, add bool) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if add {
		lb.open[c] = struct{}{}
	} else {
		delete(lb.open, c)
	}
}

func (lb *LB) forward(client net.Conn) {
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	server, err := (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext(ctx, "tcp", lb.Backend)
	if err != nil {
		return
	}
	defer server.Close()
	lb.track(client, true)
	lb.track(server, true)
	defer lb.track(client, false)
	defer lb.track(server, false)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
}

// Close stops listening and closes every forwarded connection.
func (lb *LB) Close() error {
	if lb.l == nil {
		return nil
	}
	err := lb.l.Close()
	lb.mu.Lock()
	for c := range lb.open {
		_ = c.Close()
	}
	lb.mu.Unlock()
	lb.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
