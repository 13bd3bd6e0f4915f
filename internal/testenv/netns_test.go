package testenv

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A server in a test host's namespace answers the host, and programs run
// in the namespace see its address, not the host's.
func TestTestHost(t *testing.T) {
	n := NewNetwork(t)
	a, b := n.AddHost(t), n.AddHost(t)
	if a.IP.Equal(b.IP) {
		t.Fatalf("two hosts share %s", a.IP)
	}
	url := a.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "from "+a.Name)
	}))
	if !strings.HasPrefix(url, "http://"+a.IP.String()+":") {
		t.Fatalf("url %s is not on the host's address %s", url, a.IP)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "from "+a.Name {
		t.Fatalf("got %q", body)
	}
	out, err := b.Command("ip", "-4", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(string(out), b.IP.String()+"/24") {
		t.Fatalf("host b's eth0: %s", out)
	}
	// b reaches a across the bridge.
	if out, err := b.Command("ip", "route", "get", a.IP.String()).CombinedOutput(); err != nil || !strings.Contains(string(out), "dev eth0") {
		t.Fatalf("route from b to a: %v: %s", err, out)
	}
}
