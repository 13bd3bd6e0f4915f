// Package supervisor is the server's join API for agents (RKE2 calls it
// the supervisor): on its own port, with TLS from the server CA. An agent
// fetches the CA from /cacerts, checks it against the hash its token pins,
// then posts a JoinRequest with its token; the server checks the token and
// the node password, and answers with certificates for the node's keys
// and the cluster settings the node needs.
package supervisor

// Paths of the API.
const (
	PathCACerts = "/cacerts"
	PathPing    = "/ping"
	PathJoin    = "/v1-velad/join"
	PathLeave   = "/v1-velad/leave"
)

// LeaveRequest asks the server to delete a node (its uninstall): the node
// password proves it is that node.
type LeaveRequest struct {
	NodeName     string `json:"nodeName"`
	NodePassword string `json:"nodePassword"`
}

// JoinRequest is what an agent sends (with its token as basic auth:
// user "server" or the join token's ID, password its secret).
type JoinRequest struct {
	NodeName string `json:"nodeName"`
	// NodePassword is the node's own random secret: the first join of a
	// name records its hash, later joins must present it.
	NodePassword string   `json:"nodePassword"`
	NodePool     string   `json:"nodePool,omitempty"`
	NodeIPs      []string `json:"nodeIPs,omitempty"`
	// CSRs are PEM certificate requests keyed by certificate name
	// (pki.NodeRequests).
	CSRs map[string]string `json:"csrs"`
}

// JoinResponse is the server's answer.
type JoinResponse struct {
	ServerCA string `json:"serverCA"`
	ClientCA string `json:"clientCA"`
	// Certs are the signed certificates (PEM), keyed as the CSRs were.
	Certs   map[string]string `json:"certs"`
	Cluster ClusterSettings   `json:"cluster"`
}

// ClusterSettings are what a node needs to know about the cluster.
type ClusterSettings struct {
	// APIServerPort is the API server's port on the supervisor's host.
	APIServerPort int    `json:"apiServerPort"`
	ClusterCIDR   string `json:"clusterCIDR"`
	ServiceCIDR   string `json:"serviceCIDR"`
	ClusterDomain string `json:"clusterDomain"`
	// NodePool is the pool the node is in (the token's, or the one it
	// asked for); NodeLabels and NodeTaints it registers with (the pool's).
	NodePool   string   `json:"nodePool,omitempty"`
	NodeLabels []string `json:"nodeLabels,omitempty"`
	NodeTaints []string `json:"nodeTaints,omitempty"`
}

// Refusal is the body of a 4xx answer: one line for the agent's user.
type Refusal struct {
	Message string `json:"message"`
}
