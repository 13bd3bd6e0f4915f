package bootstrap

import "testing"

func TestFilterIptablesSave(t *testing.T) {
	in := `*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:CNI-abc123 - [0:0]
:MY-CHAIN - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -s 10.42.0.5/32 -m comment --comment "name: \"velad\" id: \"x\"" -j CNI-abc123
-A KUBE-SERVICES -d 10.43.0.1/32 -j KUBE-SVC-X
-A CNI-abc123 -d 10.42.0.0/24 -j ACCEPT
-A POSTROUTING -o eth0 -j MASQUERADE
-A MY-CHAIN -j RETURN
COMMIT`
	want := `*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:MY-CHAIN - [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
-A MY-CHAIN -j RETURN
COMMIT`
	if got := FilterIptablesSave(in); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if FilterIptablesSave(want) != want {
		t.Fatal("a rule set without velad's chains was changed")
	}
}
