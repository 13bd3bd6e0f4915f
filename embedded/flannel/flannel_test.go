package flannel

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/flannel-io/flannel/pkg/subnet"
)

// flannel reads the config NetConf writes as velad means it.
func TestNetConfIsFlannels(t *testing.T) {
	data, err := NetConf("10.42.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := subnet.ParseConfig(string(data))
	if err != nil {
		t.Fatalf("flannel refuses %s: %v", data, err)
	}
	if cfg.BackendType != BackendType || cfg.Network.String() != "10.42.0.0/16" || !cfg.EnableIPv4 || cfg.EnableIPv6 {
		t.Errorf("flannel read %+v from %s", cfg, data)
	}
	var be struct{ VNI int }
	if err := json.Unmarshal(cfg.Backend, &be); err != nil || be.VNI != VNI {
		t.Errorf("backend %s: VNI %d, %v", cfg.Backend, be.VNI, err)
	}
	for _, bad := range []string{"", "10.42.0.0", "nope/16"} {
		if _, err := NetConf(bad); err == nil {
			t.Errorf("NetConf(%q) accepted", bad)
		}
	}
}

func TestExternalInterface(t *testing.T) {
	ext, err := externalInterface(net.ParseIP("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if ext.Iface.Name != "lo" || !ext.ExtAddr.Equal(net.ParseIP("127.0.0.1")) || ext.Iface.MTU == 0 {
		t.Errorf("external interface %+v", ext)
	}
	if _, err := externalInterface(net.ParseIP("::1")); err == nil || !strings.Contains(err.Error(), "IPv4") {
		t.Errorf("IPv6 node IP: %v", err)
	}
	// 192.0.2.0/24 is TEST-NET-1: no interface of a real host holds it.
	if _, err := externalInterface(net.ParseIP("192.0.2.77")); err == nil || !strings.Contains(err.Error(), "--node-ip") {
		t.Errorf("address on no interface: %v", err)
	}
}
