// Command helmrelease measures the fluxcd addon's controller: the time
// from applying a HelmRepository and a HelmRelease of a small chart to
// Ready, against the embedded control plane (a `velad server
// --disable-agent` on a temp data dir), with the controller in this
// process and the chart repository on loopback.
//
//	go run ./scripts/bench/helmrelease -velad bin/velad [-n 5]
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"sort"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/operators/fluxcd/api"
	"github.com/velad-dev/velad/operators/fluxcd/conditions"
	"github.com/velad-dev/velad/operators/fluxcd/fluxtest"
	"github.com/velad-dev/velad/scripts/bench/internal/benchenv"
)

func main() {
	velad := flag.String("velad", "bin/velad", "velad binary")
	n := flag.Int("n", 5, "HelmReleases measured one after the other")
	flag.Parse()
	if err := run(*velad, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(velad string, n int) error {
	env, err := benchenv.Start(velad, "helmrelease")
	if err != nil {
		return err
	}
	defer env.Close()
	dir, cfg := env.Dir, env.Config
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := fluxtest.InstallCRDs(ctx, cfg); err != nil {
		return err
	}
	done, err := fluxtest.StartManager(ctx, cfg, dir+"/storage")
	if err != nil {
		return err
	}
	chart, err := fluxtest.Chart("demo", "0.1.0")
	if err != nil {
		return err
	}
	repo, err := fluxtest.NewRepository(map[string][]byte{"demo-0.1.0.tgz": chart})
	if err != nil {
		return err
	}
	hs := httptest.NewServer(repo)
	defer hs.Close()
	scheme, _ := api.Scheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	var times []time.Duration
	for i := range n {
		ns := fmt.Sprintf("bench-%d", i)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
		start := time.Now()
		if err := c.Create(ctx, &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "demo"},
			Spec: sourcev1.HelmRepositorySpec{URL: hs.URL, Interval: metav1.Duration{Duration: time.Minute}}}); err != nil {
			return err
		}
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "demo"},
			Spec: helmv2.HelmReleaseSpec{Interval: metav1.Duration{Duration: time.Minute},
				Values: &apiextensionsv1.JSON{Raw: []byte(`{"data":{"n":"` + ns + `"}}`)},
				Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "demo", Version: "0.1.0",
					SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "demo"}}}}}
		if err := c.Create(ctx, hr); err != nil {
			return err
		}
		deadline := time.Now().Add(time.Minute)
		for {
			if err := c.Get(ctx, client.ObjectKeyFromObject(hr), hr); err == nil &&
				hr.Status.ObservedGeneration == hr.Generation && conditions.IsTrue(hr, meta.ReadyCondition) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("HelmRelease %s/demo not Ready within a minute", ns)
			}
			time.Sleep(20 * time.Millisecond)
		}
		times = append(times, time.Since(start))
		fmt.Printf("HelmRepository + HelmRelease %d applied → Ready: %s\n", i+1, times[i].Round(time.Millisecond))
	}
	sorted := append([]time.Duration(nil), times...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	fmt.Printf("apply → Ready (small chart, %d runs): first %s, median %s, max %s (target ≤ 5s)\n",
		n, times[0].Round(time.Millisecond), sorted[len(sorted)/2].Round(time.Millisecond), sorted[len(sorted)-1].Round(time.Millisecond))
	cancel()
	return <-done
}
