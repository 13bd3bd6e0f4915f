package embedded

import "testing"

func TestExternalAddress(t *testing.T) {
	cases := []struct {
		endpoint string
		want     string
		ok       bool
	}{
		{"", "", false},
		{"sqlite:///var/lib/velad/db.sqlite", "", false},
		{"postgres://u:p@db.example.test:6000/velad?sslmode=disable", "db.example.test:6000", true},
		{"postgres://u:p@db.example.test/velad", "db.example.test:5432", true},
		{"mysql://u:p@tcp(10.0.0.5:3307)/velad", "10.0.0.5:3307", true},
		{"mysql://u:p@tcp(10.0.0.5)/velad", "10.0.0.5:3306", true},
		{"https://10.0.0.1:2379,https://10.0.0.2:2379", "10.0.0.1:2379", true},
		{"http://etcd", "etcd:2379", true},
		{"nats://n:4222", "", false},
	}
	for _, tc := range cases {
		got, ok := externalAddress(tc.endpoint)
		if got != tc.want || ok != tc.ok {
			t.Errorf("externalAddress(%q) = %q, %v; want %q, %v", tc.endpoint, got, ok, tc.want, tc.ok)
		}
	}
}
