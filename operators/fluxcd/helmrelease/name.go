package helmrelease

import (
	"crypto/sha256"
	"encoding/hex"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
)

// MaxReleaseNameLength is Helm's limit on release names.
const MaxReleaseNameLength = 53

// ReleaseName is the Helm release of a HelmRelease, by Flux's rule:
// spec.releaseName, else [targetNamespace-]name; a name longer than 53
// characters becomes its first 40 characters, a dash and the first 12 hex
// digits of its sha256.
func ReleaseName(hr *helmv2.HelmRelease) string {
	return shortenName(hr.GetReleaseName())
}

func shortenName(name string) string {
	if len(name) <= MaxReleaseNameLength {
		return name
	}
	const hashLen = 12
	sum := sha256.Sum256([]byte(name))
	return name[:MaxReleaseNameLength-hashLen-1] + "-" + hex.EncodeToString(sum[:])[:hashLen]
}
