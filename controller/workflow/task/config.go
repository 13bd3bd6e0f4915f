package task

import (
	"context"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The config provider: configs are Secrets labelled as KubeVela's are,
// their properties as JSON under input-properties.
const (
	LabelConfigCatalog = "config.oam.dev/catalog"
	LabelConfigType    = "config.oam.dev/type"
	ConfigCatalog      = "velacore-config"
	configKey          = "input-properties"
)

type configParams struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Template  string         `json:"template"`
	Config    map[string]any `json:"config"`
}

func (r *runner) configCreate(ctx context.Context, a *action) (map[string]any, error) {
	var p configParams
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	data, err := json.Marshal(p.Config)
	if err != nil {
		return nil, permanentf("InvalidAction", "config: %v", err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
	_, err = controllerutilCreateOrUpdate(ctx, r.env.Client, s, func() {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[LabelConfigCatalog] = ConfigCatalog
		if p.Template != "" {
			s.Labels[LabelConfigType] = p.Template
		}
		s.Type = corev1.SecretTypeOpaque
		s.Data = map[string][]byte{configKey: data}
	})
	if err != nil {
		if apierrors.IsInvalid(err) {
			return nil, permanentf("InvalidConfig", "config %q: %v", p.Name, err)
		}
		return nil, err
	}
	return nil, nil
}

func (r *runner) configRead(ctx context.Context, a *action) (map[string]any, error) {
	var p configParams
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	s := &corev1.Secret{}
	if err := r.env.Reader.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: p.Name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return map[string]any{"err": err.Error()}, nil
		}
		return nil, err
	}
	cfg, err := r.configOf(s)
	if err != nil {
		return map[string]any{"err": err.Error()}, nil
	}
	return map[string]any{"config": cfg}, nil
}

func (r *runner) configOf(s *corev1.Secret) (map[string]any, error) {
	cfg := map[string]any{}
	if raw, ok := s.Data[configKey]; ok {
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return nil, permanentf("InvalidConfig", "config %q: %s is not JSON", s.Name, configKey)
		}
	}
	var walk func(any)
	walk = func(x any) {
		switch v := x.(type) {
		case string:
			r.secret(v)
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(cfg)
	return cfg, nil
}

func (r *runner) configList(ctx context.Context, a *action) (map[string]any, error) {
	var p configParams
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	l := &corev1.SecretList{}
	sel := client.MatchingLabels{LabelConfigCatalog: ConfigCatalog}
	if p.Template != "" {
		sel[LabelConfigType] = p.Template
	}
	if err := r.env.Reader.List(ctx, l, client.InNamespace(p.Namespace), sel); err != nil {
		return nil, err
	}
	out := []any{}
	for i := range l.Items {
		cfg, err := r.configOf(&l.Items[i])
		if err != nil {
			continue
		}
		out = append(out, map[string]any{"name": l.Items[i].Name, "config": cfg})
	}
	return map[string]any{"configs": out}, nil
}

func (r *runner) configDelete(ctx context.Context, a *action) (map[string]any, error) {
	var p configParams
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
	if err := r.env.Client.Delete(ctx, s); err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	return nil, nil
}

// controllerutilCreateOrUpdate creates s, or updates it when it exists,
// after mutate.
func controllerutilCreateOrUpdate(ctx context.Context, c client.Client, s *corev1.Secret, mutate func()) (bool, error) {
	err := c.Get(ctx, client.ObjectKeyFromObject(s), s)
	switch {
	case apierrors.IsNotFound(err):
		mutate()
		return true, c.Create(ctx, s)
	case err != nil:
		return false, err
	}
	mutate()
	return false, c.Update(ctx, s)
}
