package vxlan

import (
	"net"
	"testing"
)

func TestPeerFromAnnotationsRoundTrip(t *testing.T) {
	mac, _ := net.ParseMAC("26:64:35:2d:8a:5f")
	ann, err := Annotations(net.ParseIP("198.18.0.3"), mac)
	if err != nil {
		t.Fatal(err)
	}
	if ann[AnnotationBackendData] != `{"VNI":1,"VtepMAC":"26:64:35:2d:8a:5f"}` {
		t.Errorf("backend-data %s is not flannel's", ann[AnnotationBackendData])
	}
	p, ok := PeerFromAnnotations("10.42.3.0/24", ann)
	if !ok || p.PodCIDR.String() != "10.42.3.0/24" || !p.PublicIP.Equal(net.ParseIP("198.18.0.3")) || p.MAC.String() != mac.String() {
		t.Fatalf("peer %+v, %v", p, ok)
	}
	for name, bad := range map[string]map[string]string{
		"no annotations": {},
		"other backend":  {AnnotationBackendType: "host-gw", AnnotationBackendData: ann[AnnotationBackendData], AnnotationPublicIP: "198.18.0.3"},
		"other VNI":      {AnnotationBackendType: "vxlan", AnnotationBackendData: `{"VNI":2,"VtepMAC":"26:64:35:2d:8a:5f"}`, AnnotationPublicIP: "198.18.0.3"},
		"bad IP":         {AnnotationBackendType: "vxlan", AnnotationBackendData: ann[AnnotationBackendData], AnnotationPublicIP: "nope"},
	} {
		if _, ok := PeerFromAnnotations("10.42.3.0/24", bad); ok {
			t.Errorf("%s: accepted as a peer", name)
		}
	}
	if _, ok := PeerFromAnnotations("", ann); ok {
		t.Error("a node without a pod CIDR is a peer")
	}
}
