// Package chartrepo is velad's in-cluster Helm chart repository, for
// boxes without a network: every chart version is a Secret in the
// repository's namespace (flux-system), labelled, holding the packaged
// chart and its metadata; the fluxcd controller serves them as a Helm
// HTTP repository (index.yaml + .tgz) at DefaultURL, so a HelmRepository
// (or a `helm` component) with that url installs charts from inside the
// box. Push validates a chart with the Helm loader before storing it.
package chartrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// DefaultNamespace holds the chart Secrets.
	DefaultNamespace = "flux-system"
	// DefaultURL is where the fluxcd addon's Service "charts" exposes the
	// repository inside the cluster (port 80 → the controller's
	// --storage-addr port).
	DefaultURL = "http://charts.flux-system.svc.cluster.local/"

	// LabelRepository marks the chart Secrets ("true").
	LabelRepository = "charts.velad.dev/repository"
	// Annotations of a chart Secret.
	AnnotationName    = "charts.velad.dev/name"
	AnnotationVersion = "charts.velad.dev/version"
	AnnotationDigest  = "charts.velad.dev/digest"
	AnnotationCreated = "charts.velad.dev/created"
	// SecretType is the type of chart Secrets.
	SecretType corev1.SecretType = "charts.velad.dev/chart"
	// Data keys: the packaged chart and its Chart.yaml metadata as JSON.
	KeyChart    = "chart.tgz"
	KeyMetadata = "metadata.json"

	// MaxChartSize keeps a chart and its metadata within one Secret (1 MiB).
	MaxChartSize = 900 << 10
)

// Entry is one chart version in the repository.
type Entry struct {
	Name       string    `json:"name"`
	Version    string    `json:"version"`
	AppVersion string    `json:"appVersion,omitempty"`
	Digest     string    `json:"digest"` // hex sha256 of the .tgz, as in index.yaml
	Size       int       `json:"size"`
	Created    time.Time `json:"created"`
	Secret     string    `json:"secret"`

	metadata *chart.Metadata
}

// File is the entry's file name in the repository: <name>-<version>.tgz.
func (e Entry) File() string { return e.Name + "-" + e.Version + ".tgz" }

// Store reads and writes the chart Secrets of one namespace.
type Store struct {
	Client    client.Client
	Namespace string
}

// NewStore is a Store on DefaultNamespace.
func NewStore(c client.Client) *Store { return &Store{Client: c, Namespace: DefaultNamespace} }

// Validate loads a packaged chart with the Helm loader and checks its
// metadata; it returns the chart.
func Validate(tgz []byte) (*chart.Chart, error) {
	if len(tgz) == 0 {
		return nil, errors.New("chart archive is empty")
	}
	if len(tgz) > MaxChartSize {
		return nil, fmt.Errorf("chart archive is %d KiB; the in-cluster repository keeps charts up to %d KiB", len(tgz)>>10, MaxChartSize>>10)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(tgz))
	if err != nil {
		return nil, fmt.Errorf("not a Helm chart archive (.tgz made by 'helm package'): %w", err)
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("invalid chart: %w", err)
	}
	return ch, nil
}

// PushOptions change Push.
type PushOptions struct {
	// Force replaces a stored chart version whose content differs
	// (chart versions are otherwise immutable, as in any repository).
	Force bool
}

// Push validates a packaged chart and stores it; it reports whether the
// repository changed (false when the same content was there already).
func (s *Store) Push(ctx context.Context, tgz []byte, o PushOptions) (Entry, bool, error) {
	ch, err := Validate(tgz)
	if err != nil {
		return Entry{}, false, err
	}
	md := ch.Metadata
	sum := sha256.Sum256(tgz)
	digest := hex.EncodeToString(sum[:])
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return Entry{}, false, fmt.Errorf("encode chart metadata: %w", err)
	}
	name := SecretName(md.Name, md.Version)
	entry := Entry{Name: md.Name, Version: md.Version, AppVersion: md.AppVersion, Digest: digest,
		Size: len(tgz), Created: time.Now().UTC().Truncate(time.Second), Secret: name, metadata: md}

	var cur corev1.Secret
	err = s.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, &cur)
	switch {
	case apierrors.IsNotFound(err):
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: name},
			Type:       SecretType,
		}
		fill(sec, entry, tgz, mdJSON)
		if err := s.Client.Create(ctx, sec); err != nil {
			if apierrors.IsNotFound(err) {
				return Entry{}, false, fmt.Errorf("store chart %s: namespace %s does not exist; is the fluxcd addon enabled?", entry.File(), s.Namespace)
			}
			return Entry{}, false, fmt.Errorf("store chart %s: %w", entry.File(), err)
		}
		return entry, true, nil
	case err != nil:
		return Entry{}, false, fmt.Errorf("read chart %s: %w", entry.File(), err)
	}
	if cur.Annotations[AnnotationName] != md.Name || cur.Annotations[AnnotationVersion] != md.Version {
		return Entry{}, false, fmt.Errorf("secret %s/%s holds chart %s %s, not %s %s; delete it first",
			s.Namespace, name, cur.Annotations[AnnotationName], cur.Annotations[AnnotationVersion], md.Name, md.Version)
	}
	if cur.Annotations[AnnotationDigest] == digest {
		old, _ := entryOf(&cur)
		return old, false, nil
	}
	if !o.Force {
		return Entry{}, false, fmt.Errorf("chart %s %s is already in the repository with other content (sha256 %s); bump the chart's version, or replace it with --force",
			md.Name, md.Version, shortDigest(cur.Annotations[AnnotationDigest]))
	}
	fill(&cur, entry, tgz, mdJSON)
	if err := s.Client.Update(ctx, &cur); err != nil {
		return Entry{}, false, fmt.Errorf("replace chart %s: %w", entry.File(), err)
	}
	return entry, true, nil
}

func fill(sec *corev1.Secret, e Entry, tgz, mdJSON []byte) {
	if sec.Labels == nil {
		sec.Labels = map[string]string{}
	}
	sec.Labels[LabelRepository] = "true"
	if sec.Annotations == nil {
		sec.Annotations = map[string]string{}
	}
	sec.Annotations[AnnotationName] = e.Name
	sec.Annotations[AnnotationVersion] = e.Version
	sec.Annotations[AnnotationDigest] = e.Digest
	sec.Annotations[AnnotationCreated] = e.Created.Format(time.RFC3339)
	sec.Data = map[string][]byte{KeyChart: tgz, KeyMetadata: mdJSON}
}

func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// List returns every chart version, sorted by name then newest version
// first (as listed in index.yaml).
func (s *Store) List(ctx context.Context) ([]Entry, error) {
	secrets, err := s.secrets(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for i := range secrets {
		e, err := entryOf(&secrets[i])
		if err != nil {
			continue // not a chart we can serve; Get names the problem
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out, nil
}

// Get returns one chart version's archive.
func (s *Store) Get(ctx context.Context, name, version string) ([]byte, Entry, error) {
	var sec corev1.Secret
	err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: SecretName(name, version)}, &sec)
	if apierrors.IsNotFound(err) {
		return nil, Entry{}, fmt.Errorf("chart %s %s is not in the repository: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return nil, Entry{}, fmt.Errorf("read chart %s %s: %w", name, version, err)
	}
	e, err := entryOf(&sec)
	if err != nil {
		return nil, Entry{}, err
	}
	return sec.Data[KeyChart], e, nil
}

// Delete removes one chart version.
func (s *Store) Delete(ctx context.Context, name, version string) error {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: SecretName(name, version)}}
	if err := s.Client.Delete(ctx, sec); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("chart %s %s is not in the repository: %w", name, version, ErrNotFound)
		}
		return fmt.Errorf("delete chart %s %s: %w", name, version, err)
	}
	return nil
}

// ErrNotFound means the chart version is not in the repository.
var ErrNotFound = errors.New("not found")

func (s *Store) secrets(ctx context.Context) ([]corev1.Secret, error) {
	var list corev1.SecretList
	if err := s.Client.List(ctx, &list, client.InNamespace(s.Namespace), client.MatchingLabels{LabelRepository: "true"}); err != nil {
		return nil, fmt.Errorf("list charts in %s: %w", s.Namespace, err)
	}
	return list.Items, nil
}

func entryOf(sec *corev1.Secret) (Entry, error) {
	var md chart.Metadata
	if err := json.Unmarshal(sec.Data[KeyMetadata], &md); err != nil || md.Name == "" || md.Version == "" {
		return Entry{}, fmt.Errorf("secret %s/%s is not a chart of the repository (no valid %s)", sec.Namespace, sec.Name, KeyMetadata)
	}
	if len(sec.Data[KeyChart]) == 0 {
		return Entry{}, fmt.Errorf("secret %s/%s holds no %s", sec.Namespace, sec.Name, KeyChart)
	}
	created, _ := time.Parse(time.RFC3339, sec.Annotations[AnnotationCreated])
	sum := sha256.Sum256(sec.Data[KeyChart])
	return Entry{
		Name: md.Name, Version: md.Version, AppVersion: md.AppVersion,
		Digest: hex.EncodeToString(sum[:]), Size: len(sec.Data[KeyChart]),
		Created: created, Secret: sec.Name, metadata: &md,
	}, nil
}

func sortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Name != es[j].Name {
			return es[i].Name < es[j].Name
		}
		return versionLess(es[j].Version, es[i].Version)
	})
}

var unsafeName = regexp.MustCompile(`[^a-z0-9.-]+`)

// SecretName is the Secret holding a chart version: chart-<name>-<version>
// when that is a valid name as it stands; otherwise the name is cleaned
// and a hash of the exact name and version keeps it unique.
func SecretName(name, version string) string {
	raw := "chart-" + name + "-" + version
	clean := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(raw), "-"), "-.")
	if clean == raw && len(clean) <= 230 {
		return clean
	}
	sum := sha256.Sum256([]byte(name + "@" + version))
	if len(clean) > 220 {
		clean = strings.TrimRight(clean[:220], "-.")
	}
	return clean + "-" + hex.EncodeToString(sum[:])[:10]
}
