package helmrelease

import (
	"strconv"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
)

// ReasonUnsupported is the Ready/Stalled reason of a HelmRelease that uses
// a field this controller does not implement.
const ReasonUnsupported = "UnsupportedField"

// Unsupported names the first field of hr this controller does not
// implement, and what to do instead; "" when there is none.
func Unsupported(hr *helmv2.HelmRelease) (field, why string) {
	s := hr.Spec
	switch {
	case s.ChartRef != nil:
		return "spec.chartRef", "use spec.chart with a HelmRepository source"
	case s.Chart == nil:
		return "spec.chart", "it is required"
	case s.Chart.Spec.SourceRef.Kind != sourcev1.HelmRepositoryKind:
		return "spec.chart.spec.sourceRef.kind " + s.Chart.Spec.SourceRef.Kind, "only HelmRepository sources are served (GitRepository, Bucket and OCIRepository are not)"
	case s.Chart.Spec.Verify != nil:
		return "spec.chart.spec.verify", "chart signatures are not verified"
	case s.KubeConfig != nil:
		return "spec.kubeConfig", "releases go to the cluster the controller runs in"
	case s.DriftDetection != nil && s.DriftDetection.Mode != "" && s.DriftDetection.Mode != helmv2.DriftDetectionDisabled:
		return "spec.driftDetection.mode " + string(s.DriftDetection.Mode), "drift detection is not implemented; set it to disabled or remove it"
	case s.Test != nil && s.Test.Enable:
		return "spec.test.enable", "Helm tests are not run"
	case len(s.PostRenderers) > 0:
		return "spec.postRenderers", "post-renderers are not implemented"
	case s.CommonMetadata != nil:
		return "spec.commonMetadata", "it needs post-rendering, which is not implemented"
	case len(s.HealthCheckExprs) > 0:
		return "spec.healthCheckExprs", "custom health checks are not implemented"
	}
	for i, d := range s.DependsOn {
		if d.ReadyExpr != "" {
			return "spec.dependsOn[" + strconv.Itoa(i) + "].readyExpr", "a dependency is ready when its Ready condition is True"
		}
	}
	if in := s.Install; in != nil {
		if in.Strategy != nil && in.Strategy.Name != "" && in.Strategy.Name != "RemediateOnFailure" {
			return "spec.install.strategy.name " + in.Strategy.Name, "only RemediateOnFailure is implemented"
		}
		if in.ServerSideApply != nil && *in.ServerSideApply {
			return "spec.install.serverSideApply", "Helm 3's client-side apply is used"
		}
	}
	if up := s.Upgrade; up != nil {
		if up.Strategy != nil && up.Strategy.Name != "" && up.Strategy.Name != "RemediateOnFailure" {
			return "spec.upgrade.strategy.name " + up.Strategy.Name, "only RemediateOnFailure is implemented"
		}
		if up.ServerSideApply == "enabled" {
			return "spec.upgrade.serverSideApply", "Helm 3's client-side apply is used"
		}
	}
	if rb := s.Rollback; rb != nil && rb.ServerSideApply == "enabled" {
		return "spec.rollback.serverSideApply", "Helm 3's client-side apply is used"
	}
	return "", ""
}
