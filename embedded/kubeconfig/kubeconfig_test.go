package kubeconfig

import (
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestRenderAndWithServer(t *testing.T) {
	data, err := Render(Spec{Server: "https://127.0.0.1:6443", CAPEM: []byte("ca"), CertPEM: []byte("cert"), KeyPEM: []byte("key")})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != Name || cfg.Clusters[Name].Server != "https://127.0.0.1:6443" ||
		string(cfg.AuthInfos[Name].ClientKeyData) != "key" || string(cfg.Clusters[Name].CertificateAuthorityData) != "ca" {
		t.Fatalf("unexpected kubeconfig:\n%s", data)
	}
	ext, err := WithServer(data, "https://192.0.2.10:6443")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ = clientcmd.Load(ext)
	if cfg.Clusters[Name].Server != "https://192.0.2.10:6443" || string(cfg.AuthInfos[Name].ClientCertificateData) != "cert" {
		t.Fatalf("WithServer:\n%s", ext)
	}
	if _, err := WithServer([]byte("{not yaml"), "x"); err == nil {
		t.Fatal("WithServer accepted garbage")
	}
}
