package helmrelease

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	helmtime "helm.sh/helm/v3/pkg/time"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/velad-dev/velad/operators/fluxcd/conditions"
)

// Messages of Flux's helm-controller (internal/reconcile).
const (
	fmtInstallFailure              = "Helm install failed for release %s/%s with chart %s@%s: %s"
	fmtInstallSuccess              = "Helm install succeeded for release %s with chart %s"
	fmtUpgradeFailure              = "Helm upgrade failed for release %s/%s with chart %s@%s: %s"
	fmtUpgradeSuccess              = "Helm upgrade succeeded for release %s with chart %s"
	fmtRollbackRemediationFailure  = "Helm rollback to previous release %s with chart %s failed: %s"
	fmtRollbackRemediationSuccess  = "Helm rollback to previous release %s with chart %s succeeded"
	fmtUninstallRemediationFailure = "Helm uninstall remediation for release %s with chart %s failed: %s"
	fmtUninstallRemediationSuccess = "Helm uninstall remediation for release %s with chart %s succeeded"
	fmtUninstallFailure            = "Helm uninstall failed for release %s with chart %s: %s"
	fmtUninstallSuccess            = "Helm uninstall succeeded for release %s with chart %s"
)

var (
	errExceededMaxRetries    = errors.New("exceeded maximum retries")
	errMissingRollbackTarget = errors.New("missing target release for rollback")
	errMustRequeue           = errors.New("must requeue")
)

// releaseState is where the Helm release stands against the HelmRelease.
type releaseState int

const (
	stateAbsent    releaseState = iota // no release (or an uninstalled one)
	stateLocked                        // a pending-* release: an action was cut short
	stateUnmanaged                     // a release this object's history does not know
	stateFailed                        // the latest release failed
	stateOutOfSync                     // deployed, but another chart or other values
	stateInSync                        // deployed as desired
)

// actionType groups actions as Flux does: one release action and one
// remediation per pass at most.
type actionType string

const (
	typeRelease   actionType = "release"
	typeRemediate actionType = "remediate"
	typeUnlock    actionType = "unlock"
)

// request is one pass of the release state machine.
type request struct {
	hr      *helmv2.HelmRelease
	cfg     *action.Configuration
	chart   *loadedChart
	values  map[string]any
	name    string // Helm release name
	ns      string // release namespace
	digest  string // config digest of values
	patch   func() error
	timeNow func() time.Time
}

// nextAction is one Helm action to run.
type nextAction struct {
	name    string
	typ     actionType
	timeout time.Duration
	run     func(ctx context.Context, req *request) error
}

// atomicRelease runs actions until the release is in sync, a remediation
// ran (the next pass retries), or retries are exhausted (Stalled).
func atomicRelease(ctx context.Context, req *request) error {
	var previous []actionType
	for range 8 { // every pass ends within a few actions; bounded anyway
		if err := ctx.Err(); err != nil {
			return err
		}
		state, err := determineState(req)
		if err != nil {
			conditions.MarkFalse(req.hr, meta.ReadyCondition, "StateError", "Could not determine release state: %s", err)
			return fmt.Errorf("cannot determine release state: %w", err)
		}
		next, err := actionFor(req, state)
		if err != nil {
			switch {
			case errors.Is(err, errExceededMaxRetries):
				conditions.MarkStalled(req.hr, "RetriesExceeded", "Failed to %s after %d attempt(s)",
					req.hr.Status.LastAttemptedReleaseAction, req.hr.GetActiveRemediation().GetFailureCount(req.hr))
			case errors.Is(err, errMissingRollbackTarget):
				conditions.MarkStalled(req.hr, "MissingRollbackTarget", "Failed to perform remediation: %s", err)
			}
			return err
		}
		if next == nil {
			conditions.Delete(req.hr, meta.ReconcilingCondition)
			summarize(req.hr)
			return nil
		}
		if contains(previous, next.typ) {
			// Flux's clean release strategy: one action of a type per pass.
			return stopAfter(req)
		}
		msg := fmt.Sprintf("Running '%s' action with timeout of %s", next.name, next.timeout)
		conditions.MarkReconciling(req.hr, meta.ProgressingReason, "%s", msg)
		if next.typ == typeRelease {
			conditions.MarkUnknown(req.hr, meta.ReadyCondition, meta.ProgressingReason, "%s", msg)
		}
		if err := req.patch(); err != nil {
			return err
		}
		if err := next.run(ctx, req); err != nil {
			if conditions.IsTrue(req.hr, meta.ReadyCondition) {
				conditions.MarkFalse(req.hr, meta.ReadyCondition, "ReconcileError", "%s", err)
			}
			return err
		}
		if next.typ == typeRemediate {
			return stopAfter(req)
		}
		previous = append(previous, next.typ)
		if err := req.patch(); err != nil {
			return err
		}
	}
	return errors.New("release did not settle within one pass")
}

// stopAfter ends a pass after a remediation (or a repeated action): retry
// while retries are left, else the object is stalled.
func stopAfter(req *request) error {
	rem := req.hr.GetActiveRemediation()
	if rem == nil || !rem.RetriesExhausted(req.hr) || rem.IsUninstallAfterUpgrade() {
		conditions.MarkReconciling(req.hr, meta.ProgressingWithRetryReason, "%s", readyMessage(req.hr))
		return errMustRequeue
	}
	conditions.MarkStalled(req.hr, "RetriesExceeded", "Failed to %s after %d attempt(s)",
		req.hr.Status.LastAttemptedReleaseAction, rem.GetFailureCount(req.hr))
	return errExceededMaxRetries
}

func readyMessage(hr *helmv2.HelmRelease) string {
	if c := conditions.Get(hr, meta.ReadyCondition); c != nil {
		return c.Message
	}
	return ""
}

func contains(ts []actionType, t actionType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// determineState compares the release in Helm's storage with the object.
func determineState(req *request) (releaseState, error) {
	rls, err := req.cfg.Releases.Last(req.name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return stateAbsent, nil
		}
		return 0, fmt.Errorf("failed to retrieve last release from storage: %w", err)
	}
	if rls.Info.Status.IsPending() {
		return stateLocked, nil
	}
	hist := req.hr.Status.History
	if hist.Len() == 0 {
		if rls.Info.Status == helmrelease.StatusUninstalled {
			return stateAbsent, nil
		}
		return stateUnmanaged, nil
	}
	if cur := hist.Latest(); cur.Name != rls.Name || cur.Namespace != rls.Namespace || cur.Version != rls.Version {
		return stateUnmanaged, nil
	}
	switch rls.Info.Status {
	case helmrelease.StatusFailed:
		return stateFailed, nil
	case helmrelease.StatusUninstalled:
		return stateAbsent, nil
	case helmrelease.StatusDeployed:
		md := req.chart.chart.Metadata
		if rls.Chart == nil || rls.Chart.Metadata == nil || rls.Chart.Metadata.Name != md.Name ||
			rls.Chart.Metadata.Version != md.Version || ConfigDigest(rls.Config) != req.digest {
			return stateOutOfSync, nil
		}
		return stateInSync, nil
	default:
		return 0, fmt.Errorf("unable to determine state for release with status '%s'", rls.Info.Status)
	}
}

// actionFor picks the next action for a state, as Flux's AtomicRelease.
func actionFor(req *request, state releaseState) (*nextAction, error) {
	hr := req.hr
	switch state {
	case stateInSync:
		hr.Status.History.Truncate(true)
		if conditions.IsTrue(hr, helmv2.RemediatedCondition) {
			cur := hr.Status.History.Latest()
			conditions.Delete(hr, helmv2.RemediatedCondition)
			conditions.MarkTrue(hr, helmv2.ReleasedCondition, helmv2.UpgradeSucceededReason, fmtUpgradeSuccess,
				cur.FullReleaseName(), cur.VersionedChartName())
		}
		if !conditions.IsTrue(hr, meta.ReadyCondition) || !conditions.IsTrue(hr, helmv2.ReleasedCondition) {
			reason, format := "", ""
			switch {
			case conditions.HasReason(hr, helmv2.ReleasedCondition, helmv2.InstallFailedReason):
				reason, format = helmv2.InstallSucceededReason, fmtInstallSuccess
			case conditions.HasReason(hr, helmv2.ReleasedCondition, helmv2.UpgradeFailedReason):
				reason, format = helmv2.UpgradeSucceededReason, fmtUpgradeSuccess
			}
			if cur := hr.Status.History.Latest(); reason != "" && cur != nil {
				conditions.MarkTrue(hr, helmv2.ReleasedCondition, reason, format, cur.FullReleaseName(), cur.VersionedChartName())
			}
		}
		return nil, nil
	case stateLocked:
		return &nextAction{name: "unlock", typ: typeUnlock, timeout: hr.GetTimeout().Duration, run: unlock}, nil
	case stateAbsent:
		if hr.GetInstall().GetRemediation().RetriesExhausted(hr) {
			return nil, fmt.Errorf("%w: cannot install release", errExceededMaxRetries)
		}
		return installAction(hr), nil
	case stateUnmanaged:
		hr.Status.ClearHistory()
		return upgradeAction(hr), nil
	case stateOutOfSync:
		if hr.GetUpgrade().GetRemediation().RetriesExhausted(hr) {
			return nil, fmt.Errorf("%w: cannot upgrade release", errExceededMaxRetries)
		}
		return upgradeAction(hr), nil
	case stateFailed:
		rem := hr.GetActiveRemediation()
		if rem == nil || rem.GetFailureCount(hr) <= 0 {
			// The chart or values changed since the failure: try again.
			return upgradeAction(hr), nil
		}
		if rem.RetriesExhausted(hr) && !rem.MustRemediateLastFailure() {
			return nil, fmt.Errorf("%w: cannot remediate failed release", errExceededMaxRetries)
		}
		hr.Status.History.Truncate(true)
		switch rem.GetStrategy() {
		case helmv2.RollbackRemediationStrategy:
			prev := hr.Status.History.Previous(true)
			if prev == nil {
				return nil, fmt.Errorf("%w: cannot remediate failed release", errMissingRollbackTarget)
			}
			if _, err := req.cfg.Releases.Get(prev.Name, prev.Version); err != nil {
				if errors.Is(err, driver.ErrReleaseNotFound) {
					return nil, fmt.Errorf("%w: cannot remediate failed release", errMissingRollbackTarget)
				}
				return nil, fmt.Errorf("cannot verify previous release to roll back to: %w", err)
			}
			return &nextAction{name: "rollback", typ: typeRemediate,
				timeout: hr.GetRollback().GetTimeout(hr.GetTimeout()).Duration, run: rollbackRemediation}, nil
		case helmv2.UninstallRemediationStrategy:
			return &nextAction{name: "uninstall", typ: typeRemediate,
				timeout: hr.GetUninstall().GetTimeout(hr.GetTimeout()).Duration, run: uninstallRemediation}, nil
		default:
			return nil, fmt.Errorf("unknown remediation strategy: %s", rem.GetStrategy())
		}
	}
	return nil, fmt.Errorf("unknown release state %d", state)
}

func installAction(hr *helmv2.HelmRelease) *nextAction {
	return &nextAction{name: "install", typ: typeRelease, timeout: hr.GetInstall().GetTimeout(hr.GetTimeout()).Duration, run: install}
}

func upgradeAction(hr *helmv2.HelmRelease) *nextAction {
	return &nextAction{name: "upgrade", typ: typeRelease, timeout: hr.GetUpgrade().GetTimeout(hr.GetTimeout()).Duration, run: upgrade}
}

func installCRDsPolicy(in helmv2.Install) helmv2.CRDsPolicy {
	if in.CRDs != "" {
		return in.CRDs
	}
	if in.SkipCRDs {
		return helmv2.Skip
	}
	return helmv2.Create
}

func install(ctx context.Context, req *request) error {
	hr, ch := req.hr, req.chart.chart
	spec := hr.GetInstall()
	hr.Status.LastAttemptedReleaseAction = helmv2.ReleaseActionInstall
	hr.Status.ClearHistory()
	conditions.Delete(hr, helmv2.RemediatedCondition)
	start := time.Now()

	policy := installCRDsPolicy(spec)
	a := action.NewInstall(req.cfg)
	a.ReleaseName, a.Namespace = req.name, req.ns
	a.CreateNamespace = spec.CreateNamespace
	a.Timeout = spec.GetTimeout(hr.GetTimeout()).Duration
	a.Wait, a.WaitForJobs = !spec.DisableWait, !spec.DisableWaitForJobs
	a.DisableHooks, a.Replace = spec.DisableHooks, spec.Replace
	a.DisableOpenAPIValidation, a.SkipSchemaValidation = spec.DisableOpenAPIValidation, spec.DisableSchemaValidation
	a.TakeOwnership = !spec.DisableTakeOwnership
	a.SkipCRDs = policy != helmv2.Create
	var rls *helmrelease.Release
	err := error(nil)
	if policy == helmv2.CreateReplace {
		err = applyCRDs(req.cfg, ch, policy)
	}
	if err == nil {
		rls, err = a.RunWithContext(ctx, ch, req.values)
	}
	hr.Status.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: time.Since(start)}
	recordRelease(req, rls, helmv2.ReleaseActionInstall)
	if err != nil {
		hr.Status.Failures++
		conditions.MarkFalse(hr, helmv2.ReleasedCondition, helmv2.InstallFailedReason, fmtInstallFailure,
			req.ns, req.name, ch.Name(), ch.Metadata.Version, strings.TrimSpace(err.Error()))
		summarize(hr)
		if rls == nil {
			return err
		}
		hr.GetInstall().GetRemediation().IncrementFailureCount(hr)
		return nil
	}
	cur := hr.Status.History.Latest()
	conditions.MarkTrue(hr, helmv2.ReleasedCondition, helmv2.InstallSucceededReason, fmtInstallSuccess,
		cur.FullReleaseName(), cur.VersionedChartName())
	summarize(hr)
	return nil
}

func upgrade(ctx context.Context, req *request) error {
	hr, ch := req.hr, req.chart.chart
	spec := hr.GetUpgrade()
	hr.Status.LastAttemptedReleaseAction = helmv2.ReleaseActionUpgrade
	conditions.Delete(hr, helmv2.RemediatedCondition)
	start := time.Now()

	a := action.NewUpgrade(req.cfg)
	a.Namespace = req.ns
	a.MaxHistory = hr.GetMaxHistory()
	a.Timeout = spec.GetTimeout(hr.GetTimeout()).Duration
	a.Wait, a.WaitForJobs = !spec.DisableWait, !spec.DisableWaitForJobs
	a.DisableHooks, a.Force, a.CleanupOnFail = spec.DisableHooks, spec.Force, spec.CleanupOnFail
	a.ResetValues, a.ReuseValues = !spec.PreserveValues, spec.PreserveValues
	a.DisableOpenAPIValidation, a.SkipSchemaValidation = spec.DisableOpenAPIValidation, spec.DisableSchemaValidation
	a.TakeOwnership = !spec.DisableTakeOwnership
	a.SkipCRDs = true // Helm never upgrades CRDs; spec.upgrade.crds is applied below
	var rls *helmrelease.Release
	var err error
	if spec.CRDs == helmv2.Create || spec.CRDs == helmv2.CreateReplace {
		err = applyCRDs(req.cfg, ch, spec.CRDs)
	}
	if err == nil {
		rls, err = a.RunWithContext(ctx, req.name, ch, req.values)
	}
	hr.Status.LastAttemptedReleaseActionDuration = &metav1.Duration{Duration: time.Since(start)}
	recordRelease(req, rls, helmv2.ReleaseActionUpgrade)
	if err != nil {
		hr.Status.Failures++
		conditions.MarkFalse(hr, helmv2.ReleasedCondition, helmv2.UpgradeFailedReason, fmtUpgradeFailure,
			req.ns, req.name, ch.Name(), ch.Metadata.Version, strings.TrimSpace(err.Error()))
		summarize(hr)
		if rls == nil {
			return err
		}
		hr.GetUpgrade().GetRemediation().IncrementFailureCount(hr)
		return nil
	}
	cur := hr.Status.History.Latest()
	conditions.MarkTrue(hr, helmv2.ReleasedCondition, helmv2.UpgradeSucceededReason, fmtUpgradeSuccess,
		cur.FullReleaseName(), cur.VersionedChartName())
	summarize(hr)
	return nil
}

func rollbackRemediation(_ context.Context, req *request) error {
	hr := req.hr
	spec := hr.GetRollback()
	prev := hr.Status.History.Previous(true)
	a := action.NewRollback(req.cfg)
	a.Version = prev.Version
	a.Timeout = spec.GetTimeout(hr.GetTimeout()).Duration
	a.Wait, a.WaitForJobs = !spec.DisableWait, !spec.DisableWaitForJobs
	a.DisableHooks, a.Force, a.CleanupOnFail = spec.DisableHooks, spec.Force, spec.CleanupOnFail
	a.MaxHistory = hr.GetMaxHistory()
	err := a.Run(req.name)
	if last, lerr := req.cfg.Releases.Last(req.name); lerr == nil && last.Version > hr.Status.History.Latest().Version {
		recordRelease(req, last, helmv2.ReleaseActionRollback)
	} else {
		refreshHistory(req)
	}
	if err != nil {
		hr.Status.Failures++
		conditions.MarkFalse(hr, helmv2.RemediatedCondition, helmv2.RollbackFailedReason, fmtRollbackRemediationFailure,
			prev.FullReleaseName(), prev.VersionedChartName(), strings.TrimSpace(err.Error()))
		summarize(hr)
		return err
	}
	conditions.MarkTrue(hr, helmv2.RemediatedCondition, helmv2.RollbackSucceededReason, fmtRollbackRemediationSuccess,
		prev.FullReleaseName(), prev.VersionedChartName())
	summarize(hr)
	return nil
}

func uninstallRemediation(_ context.Context, req *request) error {
	hr := req.hr
	cur := hr.Status.History.Latest()
	err := runUninstall(req.cfg, hr, req.name)
	refreshHistory(req)
	if err != nil {
		hr.Status.Failures++
		conditions.MarkFalse(hr, helmv2.RemediatedCondition, helmv2.UninstallFailedReason, fmtUninstallRemediationFailure,
			cur.FullReleaseName(), cur.VersionedChartName(), strings.TrimSpace(err.Error()))
		summarize(hr)
		return err
	}
	conditions.MarkTrue(hr, helmv2.RemediatedCondition, helmv2.UninstallSucceededReason, fmtUninstallRemediationSuccess,
		cur.FullReleaseName(), cur.VersionedChartName())
	summarize(hr)
	return nil
}

// runUninstall uninstalls a release with spec.uninstall; a release that
// is already gone is not an error.
func runUninstall(cfg *action.Configuration, hr *helmv2.HelmRelease, name string) error {
	spec := hr.GetUninstall()
	a := action.NewUninstall(cfg)
	a.Timeout = spec.GetTimeout(hr.GetTimeout()).Duration
	a.DisableHooks, a.KeepHistory, a.Wait = spec.DisableHooks, spec.KeepHistory, !spec.DisableWait
	a.DeletionPropagation = spec.GetDeletionPropagation()
	a.IgnoreNotFound = true
	_, err := a.Run(name)
	if err != nil && errors.Is(err, driver.ErrReleaseNotFound) {
		return nil
	}
	return err
}

// unlock marks a release stuck in a pending state as failed, as Flux
// does, so remediation or a new upgrade can take over.
func unlock(_ context.Context, req *request) error {
	rls, err := req.cfg.Releases.Last(req.name)
	if err != nil {
		return err
	}
	if !rls.Info.Status.IsPending() {
		return nil
	}
	status := rls.Info.Status
	rls.SetStatus(helmrelease.StatusFailed, fmt.Sprintf("Release unlocked from stale '%s' state", status))
	if err := req.cfg.Releases.Update(rls); err != nil {
		return fmt.Errorf("unlock release %s/%s.v%d: %w", rls.Namespace, rls.Name, rls.Version, err)
	}
	refreshHistory(req)
	return nil
}

// recordRelease puts a release Helm made first in the history, and
// refreshes the status of the other snapshots from Helm's storage.
func recordRelease(req *request, rls *helmrelease.Release, act helmv2.ReleaseAction) {
	if rls != nil {
		snap := snapshotOf(rls, act, req.chart.ociDigest)
		var rest helmv2.Snapshots
		for _, s := range req.hr.Status.History {
			if !s.Targets(rls.Name, rls.Namespace, rls.Version) {
				rest = append(rest, s)
			}
		}
		req.hr.Status.History = append(helmv2.Snapshots{snap}, rest...)
	}
	refreshHistory(req)
}

func refreshHistory(req *request) {
	for _, s := range req.hr.Status.History {
		rls, err := req.cfg.Releases.Get(s.Name, s.Version)
		if err != nil {
			if errors.Is(err, driver.ErrReleaseNotFound) && s.Status != helmrelease.StatusSuperseded.String() {
				s.Status = helmrelease.StatusUninstalled.String()
			}
			continue
		}
		s.Status = rls.Info.Status.String()
		s.Deleted = mt(rls.Info.Deleted)
		s.LastDeployed = mt(rls.Info.LastDeployed)
	}
}

func snapshotOf(rls *helmrelease.Release, act helmv2.ReleaseAction, ociDigest string) *helmv2.Snapshot {
	s := &helmv2.Snapshot{
		APIVersion:    "v1",
		Name:          rls.Name,
		Namespace:     rls.Namespace,
		Version:       rls.Version,
		Status:        rls.Info.Status.String(),
		Action:        act,
		ConfigDigest:  ConfigDigest(rls.Config),
		FirstDeployed: mt(rls.Info.FirstDeployed),
		LastDeployed:  mt(rls.Info.LastDeployed),
		Deleted:       mt(rls.Info.Deleted),
		OCIDigest:     ociDigest,
		Digest:        releaseDigest(rls),
	}
	if rls.Chart != nil && rls.Chart.Metadata != nil {
		s.ChartName, s.ChartVersion, s.AppVersion = rls.Chart.Metadata.Name, rls.Chart.Metadata.Version, rls.Chart.Metadata.AppVersion
	}
	return s
}

// releaseDigest identifies a stored release: its name, version, chart,
// config and manifest.
func releaseDigest(rls *helmrelease.Release) string {
	var md *chart.Metadata
	if rls.Chart != nil {
		md = rls.Chart.Metadata
	}
	data, _ := json.Marshal(struct {
		Name, Namespace string
		Version         int
		Chart           *chart.Metadata
		Config          map[string]any
		Manifest        string
	}{rls.Name, rls.Namespace, rls.Version, md, rls.Config, rls.Manifest})
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// summarize sets Ready from Remediated and Released, as Flux does: a
// remediation at least as recent as the release makes Ready False with
// its reason; otherwise Ready follows Released.
func summarize(hr *helmv2.HelmRelease) {
	rem := conditions.Get(hr, helmv2.RemediatedCondition)
	rel := conditions.Get(hr, helmv2.ReleasedCondition)
	var src = rel
	status := metav1.ConditionUnknown
	switch {
	case rem != nil && (rel == nil || rem.ObservedGeneration >= rel.ObservedGeneration):
		src, status = rem, metav1.ConditionFalse
	case rel != nil:
		status = rel.Status
	default:
		return
	}
	if status == metav1.ConditionTrue {
		conditions.Delete(hr, meta.StalledCondition)
	}
	conditions.Set(hr, metav1.Condition{Type: meta.ReadyCondition, Status: status, Reason: src.Reason,
		Message: src.Message, ObservedGeneration: hr.Generation})
}

// mt converts Helm's time (zero stays zero, so it is omitted).
func mt(t helmtime.Time) metav1.Time {
	if t.IsZero() {
		return metav1.Time{}
	}
	return metav1.NewTime(t.Time)
}
