package render_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/render"
)

func benchAppYAML() string {
	var sb strings.Builder
	sb.WriteString(appHeader + "  components:\n")
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&sb, `    - name: web-%d
      type: webservice
      properties:
        image: nginx:1.27
        ports: [{port: 80, expose: true}]
        env: [{name: A, value: "1"}]
        cpu: "0.5"
      traits:
        - type: scaler
          properties: {replicas: 3}
        - type: gateway
          properties: {domain: web%d.example.com, http: {"/": 80}}
        - type: env
          properties: {env: {B: "2"}}
        - type: labels
          properties: {team: shop}
`, i, i)
	}
	return sb.String()
}

// BenchmarkRenderApp renders 3 components, each webservice + scaler +
// gateway + env + labels, with compiled definitions cached and every
// render evaluating CUE (memo off).
func BenchmarkRenderApp(b *testing.B) {
	benchmarkRenderApp(b, 0)
}

// BenchmarkRenderAppUnchanged renders the same app again and again with
// the memo on, as a controller does on every reconcile of an unchanged app.
func BenchmarkRenderAppUnchanged(b *testing.B) {
	benchmarkRenderApp(b, 512)
}

func benchmarkRenderApp(b *testing.B, memo int) {
	builtins, err := builtins.Load()
	if err != nil {
		b.Fatal(err)
	}
	app, err := render.ParseApplication([]byte(benchAppYAML()))
	if err != nil {
		b.Fatal(err)
	}
	r := render.NewRenderer()
	r.SetMemoSize(memo)
	ctx := context.Background()
	if _, err := r.RenderApp(ctx, app, builtins, render.Options{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.RenderApp(ctx, app, builtins, render.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/3, "ns/component")
}

// BenchmarkCompileBuiltins parses and compiles every built-in definition
// from scratch.
func BenchmarkCompileBuiltins(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		defs, err := builtins.Parse()
		if err != nil {
			b.Fatal(err)
		}
		r := render.NewRenderer()
		for _, d := range defs {
			if _, err := r.Compile(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}
