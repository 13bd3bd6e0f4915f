// Package version holds the build's version information, set by the linker.
package version

import (
	"fmt"
	"runtime"
)

// Set with -ldflags "-X github.com/velad-dev/velad/version.Version=…".
var (
	// Version is velad's release version.
	Version = "v0.0.0-dev"
	// GitCommit is the commit the binary was built from.
	GitCommit = "unknown"
	// KubernetesVersion is the version of the embedded Kubernetes.
	KubernetesVersion = "v1.36.3"
)

// Info is the version information printed by `velad version`.
type Info struct {
	Version           string `json:"version"`
	KubernetesVersion string `json:"kubernetesVersion"`
	GitCommit         string `json:"gitCommit"`
	GoVersion         string `json:"goVersion"`
	Platform          string `json:"platform"`
}

// Get returns the version information of this binary.
func Get() Info {
	return Info{
		Version:           Version,
		KubernetesVersion: KubernetesVersion,
		GitCommit:         GitCommit,
		GoVersion:         runtime.Version(),
		Platform:          runtime.GOOS + "/" + runtime.GOARCH,
	}
}

func (i Info) String() string {
	return fmt.Sprintf("velad %s (kubernetes %s, commit %s, %s, %s)",
		i.Version, i.KubernetesVersion, i.GitCommit, i.GoVersion, i.Platform)
}
