// Package kubeconfig renders the kubeconfig files velad hands to its users
// and its own components. Every file is self-contained (certificates
// embedded), so it can be copied to another machine as it is.
package kubeconfig

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Name is the cluster, user and context name in every kubeconfig.
const Name = "velad"

// Spec describes one kubeconfig.
type Spec struct {
	Server  string
	CAPEM   []byte
	CertPEM []byte
	KeyPEM  []byte
}

// Render returns the kubeconfig YAML for s.
func Render(s Spec) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[Name] = &clientcmdapi.Cluster{Server: s.Server, CertificateAuthorityData: s.CAPEM}
	cfg.AuthInfos[Name] = &clientcmdapi.AuthInfo{ClientCertificateData: s.CertPEM, ClientKeyData: s.KeyPEM}
	cfg.Contexts[Name] = &clientcmdapi.Context{Cluster: Name, AuthInfo: Name}
	cfg.CurrentContext = Name
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	return data, nil
}

// WithServer returns the kubeconfig data with every cluster's server
// replaced by server.
func WithServer(data []byte, server string) ([]byte, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	return out, nil
}
