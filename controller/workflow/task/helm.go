package task

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	helmaction "helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// The helm provider: render a chart into objects (no release is
// installed). Downloads time out after HelmTimeout and are read up to
// MaxChartSize bytes.
const (
	HelmTimeout  = 60 * time.Second
	MaxChartSize = 20 << 20
)

// ReasonRepoUnreachable is the reason of a chart download that got no
// answer (see Unreachable).
const ReasonRepoUnreachable = "ChartRepositoryUnreachable"

// Unreachable reports whether err is a chart download that got no answer
// from the repository (refused, no route, timed out).
func Unreachable(err error) bool {
	var p *permanent
	return asPermanent(err, &p) && p.reason == ReasonRepoUnreachable
}

// ChartRequest is what vela/helm's #Render asks for: its $params.
type ChartRequest struct {
	Chart struct {
		Source  string `json:"source"`
		RepoURL string `json:"repoURL"`
		Version string `json:"version"`
	} `json:"chart"`
	Release struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"release"`
	Values  map[string]any `json:"values"`
	Options struct {
		IncludeCRDs bool `json:"includeCRDs"`
		SkipTests   bool `json:"skipTests"`
	} `json:"options"`
}

func (r *runner) helmRender(ctx context.Context, a *action) (map[string]any, error) {
	var p ChartRequest
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	return RenderChart(ctx, p, r.env.Namespace, r.env.HTTP)
}

// RenderChart fetches the chart p names and renders it with p's values,
// without installing a release: the result is #Render's $returns
// (resources, notes). namespace is the default of the release's; c (nil:
// a default client) downloads, within HelmTimeout and MaxChartSize.
func RenderChart(ctx context.Context, p ChartRequest, namespace string, c *http.Client) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, HelmTimeout)
	defer cancel()
	f := fetcher{c}
	ch, err := f.fetchChart(ctx, p.Chart.Source, p.Chart.RepoURL, p.Chart.Version)
	if err != nil {
		return nil, err
	}
	name := p.Release.Name
	if name == "" {
		name = ch.Metadata.Name
	}
	ns := p.Release.Namespace
	if ns == "" {
		ns = namespace
	}
	inst := helmaction.NewInstall(&helmaction.Configuration{})
	inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = name, ns
	inst.IncludeCRDs = p.Options.IncludeCRDs
	inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.36.0", Major: "1", Minor: "36"}
	vals := p.Values
	if vals == nil {
		vals = map[string]any{}
	}
	rel, err := inst.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, permanentf("HelmRenderFailed", "render chart %s: %v", ch.Metadata.Name, err)
	}
	var resources []any
	manifests := releaseutil.SplitManifests(rel.Manifest)
	// In the order of the manifest (helm's install order by kind).
	order := releaseutil.BySplitManifestsOrder(keys(manifests))
	sort.Sort(order)
	for _, k := range order {
		m := manifests[k]
		if p.Options.SkipTests && strings.Contains(m, "helm.sh/hook") && strings.Contains(m, "test") {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(m), &obj); err != nil {
			return nil, permanentf("HelmRenderFailed", "chart %s: %s is not YAML: %v", ch.Metadata.Name, k, err)
		}
		if len(obj) > 0 {
			resources = append(resources, obj)
		}
	}
	return map[string]any{"resources": resources, "notes": rel.Info.Notes}, nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fetcher downloads charts with its client (nil: a default one).
type fetcher struct{ c *http.Client }

// fetchChart loads a chart: from an oci:// reference, from the URL of a
// packaged chart (.tgz), or by name and version from the index of an
// HTTP chart repository. Version "latest" (KubeVela's default) is the
// newest, as "" is.
func (r fetcher) fetchChart(ctx context.Context, source, repoURL, version string) (*chart.Chart, error) {
	if version == "latest" {
		version = ""
	}
	if (strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://")) && strings.HasSuffix(source, ".tgz") {
		data, err := r.download(ctx, source)
		if err != nil {
			return nil, err
		}
		return loadChart(data, source)
	}
	if strings.HasPrefix(source, "oci://") {
		rc, err := registry.NewClient(registry.ClientOptWriter(io.Discard))
		if err != nil {
			return nil, err
		}
		ref := strings.TrimPrefix(source, "oci://")
		if version != "" && !strings.Contains(ref[strings.LastIndex(ref, "/")+1:], ":") {
			ref += ":" + version
		}
		res, err := rc.Pull(ref)
		if err != nil {
			return nil, permanentf("ChartNotFound", "pull %s: %v", source, err)
		}
		return loadChart(res.Chart.Data, source)
	}
	if repoURL == "" {
		return nil, permanentf("InvalidAction", "chart %q: give chart.repoURL, an oci:// source or the URL of a .tgz", source)
	}
	base, err := url.Parse(strings.TrimSuffix(repoURL, "/") + "/")
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, permanentf("InvalidAction", "chart.repoURL %q: want an http:// or https:// URL", repoURL)
	}
	data, err := r.download(ctx, base.ResolveReference(&url.URL{Path: "index.yaml"}).String())
	if err != nil {
		return nil, err
	}
	idx := &repo.IndexFile{}
	if err := yaml.Unmarshal(data, idx); err != nil {
		return nil, permanentf("ChartNotFound", "index of %s: %v", repoURL, err)
	}
	idx.SortEntries()
	cv, err := idx.Get(source, version)
	if err != nil || len(cv.URLs) == 0 {
		if version == "" {
			version = "(any version)"
		}
		return nil, permanentf("ChartNotFound", "chart %s %s is not in %s", source, version, repoURL)
	}
	u, err := url.Parse(cv.URLs[0])
	if err != nil {
		return nil, permanentf("ChartNotFound", "chart %s: bad URL %q", source, cv.URLs[0])
	}
	if data, err = r.download(ctx, base.ResolveReference(u).String()); err != nil {
		return nil, err
	}
	return loadChart(data, source)
}

func loadChart(data []byte, what string) (*chart.Chart, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, permanentf("ChartNotFound", "chart %s: %v", what, err)
	}
	return ch, nil
}

// download GETs u, up to MaxChartSize bytes.
func (r fetcher) download(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, permanentf("InvalidAction", "%v", err)
	}
	c := r.c
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, permanentf(ReasonRepoUnreachable, "GET %s: %s", req.URL.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, permanentf("ChartNotFound", "GET %s: %s", req.URL.Redacted(), resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxChartSize+1))
	if err != nil {
		return nil, permanentf("ChartNotFound", "GET %s: %v", req.URL.Redacted(), err)
	}
	if len(data) > MaxChartSize {
		return nil, permanentf("ChartNotFound", "GET %s: larger than %d bytes", req.URL.Redacted(), MaxChartSize)
	}
	return data, nil
}
