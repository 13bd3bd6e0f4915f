package fluxtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

func loadArchive(data []byte) (*chart.Chart, error) { return loader.LoadArchive(bytes.NewReader(data)) }

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
