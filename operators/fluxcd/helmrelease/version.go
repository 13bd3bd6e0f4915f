package helmrelease

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// ErrNoVersion means no version of the chart satisfies the range.
var ErrNoVersion = errors.New("no matching chart version")

// SelectVersion picks the newest of versions that satisfies constraint (a
// semver range; empty is "*"), as Flux does: an exact version matches
// itself even when it is not valid semver; pre-releases match only a
// range that names one.
func SelectVersion(versions []string, constraint string) (string, error) {
	constraint = strings.TrimSpace(constraint)
	if constraint == "" {
		constraint = "*"
	}
	for _, v := range versions {
		if v == constraint {
			return v, nil
		}
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("invalid version range '%s': %w", constraint, err)
	}
	var best *semver.Version
	var bestRaw string
	for _, raw := range versions {
		v, err := semver.NewVersion(raw)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestRaw = v, raw
		}
	}
	if best == nil {
		return "", ErrNoVersion
	}
	return bestRaw, nil
}
