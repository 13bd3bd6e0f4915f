package helmrelease

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/registry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/operators/fluxcd/source"
	"github.com/velad-dev/velad/operators/fluxcd/storage"
)

// chartError is a chart that cannot be had; stalled when only a change
// of the HelmRelease can help (an invalid version range).
type chartError struct {
	err     error
	stalled bool
}

func (e *chartError) Error() string { return e.err.Error() }
func (e *chartError) Unwrap() error { return e.err }

// loadedChart is the chart a release is made of.
type loadedChart struct {
	chart     *chart.Chart
	ociDigest string
}

// charts fetches charts from HelmRepositories: from the stored index and
// the repository's URL, or from an OCI registry. Archives are kept by
// URL and digest (a bounded cache) and loaded anew for every release,
// since Helm changes a loaded chart while it installs it.
type charts struct {
	reader  client.Reader
	storage *storage.Storage

	mu    sync.Mutex
	cache map[string][]byte
	order []string
}

const chartCacheSize = 32

func (c *charts) cached(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.cache[key]
	return data, ok
}

func (c *charts) keep(key string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = map[string][]byte{}
	}
	if _, ok := c.cache[key]; ok {
		return
	}
	c.cache[key] = data
	c.order = append(c.order, key)
	if len(c.order) > chartCacheSize {
		delete(c.cache, c.order[0])
		c.order = c.order[1:]
	}
}

func (c *charts) load(ctx context.Context, hr *helmv2.HelmRelease, repo *sourcev1.HelmRepository) (*loadedChart, error) {
	spec := hr.Spec.Chart.Spec
	repoName := repo.Namespace + "/" + repo.Name
	creds, err := source.LoadCredentials(ctx, c.reader, repo)
	if err != nil {
		return nil, &chartError{err: fmt.Errorf("HelmRepository '%s': %w", repoName, err)}
	}
	var data []byte
	var ociDigest string
	if repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
		data, ociDigest, err = c.pullOCI(repo, creds, spec.Chart, spec.Version)
	} else {
		data, err = c.fetchHTTP(ctx, repo, creds, spec.Chart, spec.Version)
	}
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, &chartError{err: fmt.Errorf("chart '%s' from HelmRepository '%s' is not a valid chart: %w", spec.Chart, repoName, err)}
	}
	if err := mergeValuesFiles(ch, spec.ValuesFiles, spec.IgnoreMissingValuesFiles); err != nil {
		return nil, &chartError{err: err, stalled: true}
	}
	return &loadedChart{chart: ch, ociDigest: ociDigest}, nil
}

func (c *charts) fetchHTTP(ctx context.Context, repo *sourcev1.HelmRepository, creds *source.Credentials, name, constraint string) ([]byte, error) {
	repoName := repo.Namespace + "/" + repo.Name
	raw, err := c.storage.Read(repo.Status.Artifact)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &chartError{err: fmt.Errorf("HelmRepository '%s' has no stored index yet", repoName)}
		}
		return nil, &chartError{err: err}
	}
	idx, _, err := source.LoadIndex(raw)
	if err != nil {
		return nil, &chartError{err: fmt.Errorf("index of HelmRepository '%s': %w", repoName, err)}
	}
	entries := idx.Entries[name]
	if len(entries) == 0 {
		return nil, &chartError{err: fmt.Errorf("no '%s' chart in HelmRepository '%s'", name, repoName)}
	}
	var versions []string
	for _, e := range entries {
		versions = append(versions, e.Version)
	}
	version, err := SelectVersion(versions, constraint)
	if err != nil {
		return nil, versionError(name, constraint, repoName, err)
	}
	var entry = entries[0]
	for _, e := range entries {
		if e.Version == version {
			entry = e
			break
		}
	}
	if len(entry.URLs) == 0 {
		return nil, &chartError{err: fmt.Errorf("chart '%s' version '%s' has no URL in the index of HelmRepository '%s'", name, version, repoName)}
	}
	hc, err := source.NewHTTPClient(repo.Spec.URL, creds, repo.Spec.PassCredentials, repo.GetTimeout())
	if err != nil {
		return nil, &chartError{err: err, stalled: true}
	}
	u, err := hc.Resolve(entry.URLs[0])
	if err != nil {
		return nil, &chartError{err: err}
	}
	key := u + "|" + entry.Digest
	if data, ok := c.cached(key); ok && entry.Digest != "" {
		return data, nil
	}
	data, err := hc.Get(ctx, u)
	if err != nil {
		return nil, &chartError{err: fmt.Errorf("failed to download chart '%s' version '%s': %w", name, version, err)}
	}
	if entry.Digest != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, entry.Digest) {
			return nil, &chartError{err: fmt.Errorf("chart '%s' version '%s' from %s has digest %s, the index says %s", name, version, u, got, entry.Digest)}
		}
	}
	c.keep(key, data)
	return data, nil
}

func (c *charts) pullOCI(repo *sourcev1.HelmRepository, creds *source.Credentials, name, constraint string) ([]byte, string, error) {
	repoName := repo.Namespace + "/" + repo.Name
	ref := strings.TrimSuffix(strings.TrimPrefix(repo.Spec.URL, "oci://"), "/") + "/" + name
	if !strings.HasPrefix(repo.Spec.URL, "oci://") {
		return nil, "", &chartError{err: fmt.Errorf("HelmRepository '%s' of type oci needs an oci:// URL, not %q", repoName, repo.Spec.URL), stalled: true}
	}
	rc, cleanup, err := source.NewRegistryClient(creds, repo.Spec.Insecure, repo.GetTimeout())
	if err != nil {
		return nil, "", &chartError{err: err}
	}
	defer cleanup()
	version := strings.TrimSpace(constraint)
	if _, err := semver.StrictNewVersion(version); err != nil {
		tags, err := rc.Tags(ref)
		if err != nil {
			return nil, "", &chartError{err: fmt.Errorf("failed to list versions of 'oci://%s': %w", ref, err)}
		}
		if version, err = SelectVersion(tags, constraint); err != nil {
			return nil, "", versionError(name, constraint, repoName, err)
		}
	}
	res, err := rc.Pull(ref+":"+version, registry.PullOptWithChart(true))
	if err != nil {
		return nil, "", &chartError{err: fmt.Errorf("failed to pull chart 'oci://%s:%s': %w", ref, version, err)}
	}
	return res.Chart.Data, res.Manifest.Digest, nil
}

func versionError(name, constraint, repoName string, err error) error {
	if errors.Is(err, ErrNoVersion) {
		if constraint == "" {
			constraint = "*"
		}
		return &chartError{err: fmt.Errorf("no '%s' chart with version matching '%s' found in HelmRepository '%s'", name, constraint, repoName)}
	}
	return &chartError{err: err, stalled: true}
}

// mergeValuesFiles replaces the chart's default values with the merge of
// spec.chart.spec.valuesFiles (paths inside the chart, later files win),
// as Flux's HelmChart does.
func mergeValuesFiles(ch *chart.Chart, files []string, ignoreMissing bool) error {
	if len(files) == 0 {
		return nil
	}
	merged := map[string]any{}
	for _, f := range files {
		var data []byte
		found := false
		for _, raw := range ch.Raw {
			if raw.Name == strings.TrimPrefix(f, "./") {
				data, found = raw.Data, true
				break
			}
		}
		if !found {
			if ignoreMissing {
				continue
			}
			return fmt.Errorf("values file '%s' (spec.chart.spec.valuesFiles) is not in chart '%s'", f, ch.Name())
		}
		vals, err := chartutil.ReadValues(data)
		if err != nil {
			return fmt.Errorf("values file '%s' of chart '%s': %w", f, ch.Name(), err)
		}
		merged = MergeMaps(merged, vals)
	}
	ch.Values = merged
	return nil
}
