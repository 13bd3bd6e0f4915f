// Package release installs the charts velad carries as Helm releases, with
// the Helm SDK: a new release is installed, an existing one upgraded (so
// running `velad install` again rolls out a newer chart or image), and a
// release an interrupted run left pending is recovered instead of blocking
// every later install.
package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	"helm.sh/helm/v3/pkg/strvals"
)

// maxHistory is how many revisions of a release Helm keeps.
const maxHistory = 5

// Load reads the chart in folder dir of fsys (velad's embedded charts).
func Load(fsys fs.FS, dir string) (*chart.Chart, error) {
	var files []*loader.BufferedFile
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: strings.TrimPrefix(p, dir+"/"), Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read chart %s: %w", path.Base(dir), err)
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", path.Base(dir), err)
	}
	return ch, nil
}

// ParseSet merges `--set key=value` flags (Helm's syntax: a.b=c, lists
// with {a,b}, several pairs separated by commas) into values.
func ParseSet(values map[string]any, sets []string) error {
	for _, s := range sets {
		if err := checkKeys(s); err != nil {
			return fmt.Errorf("--set %q: %w (want key=value, e.g. replicas=2)", s, err)
		}
		if err := strvals.ParseInto(s, values); err != nil {
			return fmt.Errorf("--set %q: %w (want key=value, e.g. replicas=2)", s, err)
		}
	}
	return nil
}

// checkKeys refuses a --set whose key, or a part of it, is empty ("=x",
// "a.=x", "a=1,=2", ""): Helm's parser drops such a pair without a word.
// Values may hold lists ({a,b}) and escaped characters (\,).
func checkKeys(s string) error {
	if s == "" {
		return fmt.Errorf("nothing to set")
	}
	inKey, key, depth := true, strings.Builder{}, 0
	flush := func() error {
		k := key.String()
		key.Reset()
		switch {
		case k == "":
			return fmt.Errorf("a key is empty")
		case strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || strings.Contains(k, ".."):
			return fmt.Errorf("key %q has an empty part", k)
		}
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			if inKey {
				key.WriteByte(s[i+1])
			}
			i++
			continue
		}
		if inKey {
			if c == '=' || c == ',' {
				if err := flush(); err != nil {
					return err
				}
				inKey = c == ','
				continue
			}
			key.WriteByte(c)
			continue
		}
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth <= 0 {
				inKey, depth = true, 0
			}
		}
	}
	if inKey {
		return flush()
	}
	return nil
}

// Validate checks values against the chart's values.schema.json, so that
// bad flags are refused before anything is installed.
func Validate(ch *chart.Chart, values map[string]any) error {
	merged, err := chartutil.CoalesceValues(ch, values)
	if err != nil {
		return fmt.Errorf("values for chart %s: %w", ch.Name(), err)
	}
	if err := chartutil.ValidateAgainstSchema(ch, merged); err != nil {
		return fmt.Errorf("invalid values for chart %s: %s", ch.Name(), schemaProblems(err))
	}
	return nil
}

// schemaProblems turns Helm's schema report (a chart line, then one
// "- at '/a/b': what" line per problem) into "a.b: what; …".
func schemaProblems(err error) string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, "- at '")
		if !ok {
			continue
		}
		at, what, ok := strings.Cut(rest, "': ")
		if !ok {
			continue
		}
		if at = strings.ReplaceAll(strings.TrimPrefix(at, "/"), "/", "."); at != "" {
			what = at + ": " + what
		}
		out = append(out, what)
	}
	if len(out) == 0 {
		return err.Error()
	}
	return strings.Join(out, "; ")
}

// Client manages the Helm releases of one namespace.
type Client struct {
	cfg       *action.Configuration
	namespace string
	log       *logBuffer
}

// New returns a Client for the cluster of kubeconfig, keeping release
// records as Secrets in namespace (Helm's default storage).
func New(kubeconfig, namespace string) (*Client, error) {
	c := &Client{cfg: new(action.Configuration), namespace: namespace, log: &logBuffer{}}
	if err := c.cfg.Init(restGetter{kubeconfig: kubeconfig, namespace: namespace}, namespace, "secret", c.log.printf); err != nil {
		return nil, fmt.Errorf("set up Helm for %s: %w", kubeconfig, err)
	}
	return c, nil
}

// Get returns the newest record of the release, or nil when it is not
// installed.
func (c *Client) Get(name string) (*helmrelease.Release, error) {
	rel, err := c.cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Helm release %s/%s: %w", c.namespace, name, err)
	}
	return rel, nil
}

// Apply installs the chart as release name with values, or upgrades the
// release to it. Values are the chart's defaults plus values, every time:
// nothing from an earlier run is reused, so what is running is what the
// last command asked for. It does not wait for the workloads; callers
// wait for what they need.
func (c *Client) Apply(ctx context.Context, name string, ch *chart.Chart, values map[string]any, timeout time.Duration) (*helmrelease.Release, error) {
	last, err := c.Get(name)
	if err != nil {
		return nil, err
	}
	if last != nil && last.Info.Status.IsPending() {
		if err := c.abandon(last); err != nil {
			return nil, err
		}
	}
	var rel *helmrelease.Release
	if last == nil {
		in := action.NewInstall(c.cfg)
		in.ReleaseName, in.Namespace = name, c.namespace
		in.CreateNamespace = true
		in.Timeout = timeout
		rel, err = in.RunWithContext(ctx, ch, values)
	} else {
		up := action.NewUpgrade(c.cfg)
		up.Namespace = c.namespace
		up.MaxHistory = maxHistory
		up.ResetValues = true
		up.Timeout = timeout
		rel, err = up.RunWithContext(ctx, name, ch, values)
	}
	if err != nil {
		return nil, fmt.Errorf("helm %s of %s/%s: %w%s", verb(last), c.namespace, name, err, c.log.tail())
	}
	return rel, nil
}

// Uninstall removes the release and what it created (but, as Helm does,
// not the CRDs of its chart's crds/ folder), waiting up to timeout for its
// objects to be gone. A release that is not installed is no error.
func (c *Client) Uninstall(ctx context.Context, name string, timeout time.Duration) error {
	un := action.NewUninstall(c.cfg)
	un.Wait = true
	un.Timeout = timeout
	un.IgnoreNotFound = true
	if _, err := un.Run(name); err != nil {
		return fmt.Errorf("helm uninstall of %s/%s: %w%s", c.namespace, name, err, c.log.tail())
	}
	return ctx.Err()
}

// Rollback returns the release to its revision rev (e.g. after a failed
// upgrade, to the one that was deployed before).
func (c *Client) Rollback(ctx context.Context, name string, rev int, timeout time.Duration) error {
	rb := action.NewRollback(c.cfg)
	rb.Version = rev
	rb.Timeout = timeout
	rb.MaxHistory = maxHistory
	if err := rb.Run(name); err != nil {
		return fmt.Errorf("helm rollback of %s/%s to revision %d: %w%s", c.namespace, name, rev, err, c.log.tail())
	}
	return ctx.Err()
}

// abandon marks a release left pending by an interrupted install or
// upgrade as failed, which Helm then lets the next upgrade replace.
func (c *Client) abandon(rel *helmrelease.Release) error {
	rel.SetStatus(helmrelease.StatusFailed, "interrupted before it finished; replaced by the next velad install")
	if err := c.cfg.Releases.Update(rel); err != nil {
		return fmt.Errorf("recover Helm release %s/%s left %s: %w", c.namespace, rel.Name, rel.Info.Status, err)
	}
	return nil
}

func verb(last *helmrelease.Release) string {
	if last == nil {
		return "install"
	}
	return "upgrade"
}

// logBuffer keeps Helm's last debug lines, to explain a failure.
type logBuffer struct{ lines []string }

func (b *logBuffer) printf(format string, v ...any) {
	b.lines = append(b.lines, fmt.Sprintf(format, v...))
	if len(b.lines) > 5 {
		b.lines = b.lines[len(b.lines)-5:]
	}
}

func (b *logBuffer) tail() string {
	if len(b.lines) == 0 {
		return ""
	}
	return "\nhelm said:\n  " + strings.Join(b.lines, "\n  ")
}
