// Package v1beta1 holds the core.oam.dev/v1beta1 API types velad accepts:
// Application, the X-Definitions (component, trait, policy, workflow step),
// ApplicationRevision, DefinitionRevision and ResourceTracker. Field names
// and JSON tags follow the OAM runtime users know, so existing YAML applies
// unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=core.oam.dev
package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// Group and Version of the API.
const (
	Group   = "core.oam.dev"
	Version = "v1beta1"
)

var (
	// GroupVersion is the group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: Group, Version: Version}

	// SchemeBuilder adds the types of this package to a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Kinds of this API group.
const (
	ApplicationKind            = "Application"
	ComponentDefinitionKind    = "ComponentDefinition"
	TraitDefinitionKind        = "TraitDefinition"
	PolicyDefinitionKind       = "PolicyDefinition"
	WorkflowStepDefinitionKind = "WorkflowStepDefinition"
	ApplicationRevisionKind    = "ApplicationRevision"
	DefinitionRevisionKind     = "DefinitionRevision"
	ResourceTrackerKind        = "ResourceTracker"
)

// Well-known labels and annotations.
const (
	LabelAppName                = "app.oam.dev/name"
	LabelAppComponent           = "app.oam.dev/component"
	LabelAppNamespace           = "app.oam.dev/namespace"
	LabelAppRevision            = "app.oam.dev/appRevision"
	LabelPause                  = "controller.core.oam.dev/pause"
	AnnotationPublishVersion    = "app.oam.dev/publishVersion"
	AnnotationRestartWorkflow   = "app.oam.dev/restart-workflow"
	AnnotationReconcileInterval = "app.oam.dev/reconcile-interval"
)
