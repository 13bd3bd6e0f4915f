package config

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
)

// File modes used for everything velad writes.
const (
	// PrivateDirMode is for folders holding keys, credentials and the database.
	PrivateDirMode = 0o700
	// DirMode is for other folders.
	DirMode = 0o755
	// SecretFileMode is for keys, kubeconfigs and tokens.
	SecretFileMode = 0o600
	// PublicFileMode is for certificates and other non-secret files.
	PublicFileMode = 0o644
)

// Paths is the one place that knows where every file of a velad server
// lives; all of it is derived from the data dir.
type Paths struct {
	DataDir string

	ServerDir string
	// TLSDir holds the CAs, keys and certificates (see package pki).
	TLSDir string
	// TempCertDir is where components may write self-signed serving certs.
	TempCertDir string
	// CredDir holds the kubeconfigs of the admin and the control plane.
	CredDir string
	DBDir   string

	SQLiteDB   string
	KineSocket string
	TokenFile  string

	// Node (agent) files.
	AgentDir string
	RunDir   string
	// RuntimeRoot holds the runtime binaries extracted from velad, one
	// content-addressed folder per payload.
	RuntimeRoot string
	// RuntimeCurrent links to the folder in use; RuntimeBinDir is its bin
	// folder (containerd, ctr, runc, CNI plugins) for commands run
	// outside the server, such as 'velad image' and uninstall.
	RuntimeCurrent       string
	RuntimeBinDir        string
	ContainerdRoot       string
	ContainerdConfig     string
	ContainerdSocket     string
	ContainerdLog        string
	RegistryConfig       string
	CNIConfDir           string
	CNIStateDir          string
	ImagesDir            string
	KubeletRootDir       string
	KubeletConfig        string
	KubeletKubeconfig    string
	KubeProxyKubeconfig  string
	PodNetworkKubeconfig string
	// FlannelNetConf is flannel's network config (its net-conf.json).
	FlannelNetConf string
	PodLogsDir     string
	// AgentTLSDir holds an agent's CAs and the certificates the server
	// signed for it; NodePasswordFile its node password; JoinFile the
	// cluster settings the server gave it.
	AgentTLSDir      string
	NodePasswordFile string
	JoinFile         string
	// KubeletCgroupRoot is the kubelet's cgroup root: empty (the root) for
	// the default data dir, else one derived from the data dir, so two
	// kubelets on one machine never both own /kubepods.
	KubeletCgroupRoot string
	// The daemon `velad join` installs: its name (the systemd unit's),
	// the binary it runs (a copy inside the data dir: never the host's
	// /usr/local/bin/velad, which a server install owns), its recorded
	// arguments, log and supervisor pid file; all derived from the data
	// dir, so agents on one host never share one.
	AgentDaemonName string
	AgentBinary     string
	AgentDaemonArgs string
	AgentDaemonLog  string
	AgentDaemonPID  string

	AdminKubeconfig string
	// ExternalAdminKubeconfig points at --bind-ip; only written when set.
	ExternalAdminKubeconfig     string
	ControllerManagerKubeconfig string
	SchedulerKubeconfig         string
}

// DefaultRunDir holds sockets and runtime state of the default data dir;
// other data dirs keep theirs in <data dir>/run, so several can coexist.
const DefaultRunDir = "/run/velad"

// NewPaths derives the layout from a data dir.
func NewPaths(dataDir string) Paths {
	run := filepath.Join(dataDir, "run")
	if filepath.Clean(dataDir) == DefaultDataDir {
		run = DefaultRunDir
	}
	agent := filepath.Join(dataDir, "agent")
	etc := filepath.Join(agent, "etc")
	server := filepath.Join(dataDir, "server")
	cred := filepath.Join(server, "cred")
	db := filepath.Join(server, "db")
	tls := filepath.Join(server, "tls")
	runtime := filepath.Join(dataDir, "data")
	return Paths{
		DataDir:                     dataDir,
		ServerDir:                   server,
		TLSDir:                      tls,
		TempCertDir:                 filepath.Join(tls, "temporary-certs"),
		CredDir:                     cred,
		DBDir:                       db,
		SQLiteDB:                    filepath.Join(db, "state.db"),
		KineSocket:                  filepath.Join(db, "kine.sock"),
		TokenFile:                   filepath.Join(server, "token"),
		AgentDir:                    agent,
		RunDir:                      run,
		RuntimeRoot:                 runtime,
		RuntimeCurrent:              filepath.Join(runtime, "current"),
		RuntimeBinDir:               filepath.Join(runtime, "current", "bin"),
		ContainerdRoot:              filepath.Join(agent, "containerd"),
		ContainerdConfig:            filepath.Join(etc, "containerd", "config.toml"),
		ContainerdSocket:            filepath.Join(run, "containerd", "containerd.sock"),
		ContainerdLog:               filepath.Join(agent, "containerd", "containerd.log"),
		RegistryConfig:              filepath.Join(etc, "containerd", "certs.d"),
		CNIConfDir:                  filepath.Join(etc, "cni", "net.d"),
		CNIStateDir:                 filepath.Join(run, "cni"),
		ImagesDir:                   filepath.Join(agent, "images"),
		KubeletRootDir:              filepath.Join(agent, "kubelet"),
		KubeletConfig:               filepath.Join(etc, "kubelet.yaml"),
		KubeletKubeconfig:           filepath.Join(agent, "kubelet.kubeconfig"),
		KubeProxyKubeconfig:         filepath.Join(agent, "kubeproxy.kubeconfig"),
		PodNetworkKubeconfig:        filepath.Join(agent, "pod-network.kubeconfig"),
		FlannelNetConf:              filepath.Join(etc, "flannel", "net-conf.json"),
		PodLogsDir:                  filepath.Join(agent, "pod-logs"),
		AgentTLSDir:                 filepath.Join(agent, "tls"),
		NodePasswordFile:            filepath.Join(agent, "node-password"),
		JoinFile:                    filepath.Join(agent, "join.json"),
		KubeletCgroupRoot:           cgroupRoot(dataDir),
		AgentDaemonName:             agentDaemonName(dataDir),
		AgentBinary:                 filepath.Join(agent, "bin", "velad"),
		AgentDaemonArgs:             filepath.Join(etc, "agent.args"),
		AgentDaemonLog:              filepath.Join(agent, "velad-agent.log"),
		AgentDaemonPID:              filepath.Join(run, "agent-supervisor.pid"),
		AdminKubeconfig:             filepath.Join(cred, "admin.kubeconfig"),
		ExternalAdminKubeconfig:     filepath.Join(cred, "admin-external.kubeconfig"),
		ControllerManagerKubeconfig: filepath.Join(cred, "controller-manager.kubeconfig"),
		SchedulerKubeconfig:         filepath.Join(cred, "scheduler.kubeconfig"),
	}
}

// PrivateDirs are the folders created with PrivateDirMode, parents first.
func (p Paths) PrivateDirs() []string {
	return []string{p.DataDir, p.ServerDir, p.TLSDir, p.TempCertDir, p.CredDir, p.DBDir}
}

// agentDaemonName names the agent daemon of a data dir: velad-agent for the
// default one, else velad-agent-<hash of the data dir>.
func agentDaemonName(dataDir string) string {
	if filepath.Clean(dataDir) == DefaultDataDir {
		return "velad-agent"
	}
	return "velad-agent-" + dataDirHash(dataDir)
}

func dataDirHash(dataDir string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(dataDir)))
	return hex.EncodeToString(sum[:4])
}

// cgroupRoot derives the kubelet's cgroup root from a data dir other than
// the default one.
func cgroupRoot(dataDir string) string {
	if filepath.Clean(dataDir) == DefaultDataDir {
		return ""
	}
	return "/velad-" + dataDirHash(dataDir)
}
