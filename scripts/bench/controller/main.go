// Command controller benchmarks the application controller: it starts an
// embedded control plane (a `velad server` process) and the controller
// in this process, creates N applications (webservice + scaler, replicas
// 0), and reports the time until every one is `running`, the p50/p99
// reconcile latency from the controller's Prometheus histogram
// (controller_runtime_reconcile_time_seconds), and the memory of this
// process (controller + a small driver; the API server is another
// process): VmRSS/VmHWM from /proc/self/status and the Go heap.
//
//	go run ./scripts/bench/controller -velad bin/velad -apps 1000
//
// With -clusters N it starts N more velad servers (control planes only),
// joins them (Secrets in vela-system, their loopback kubeconfigs: the
// controller runs in this process) and gives every application a
// topology policy selecting all of them, so each app is delivered to N
// clusters (and not to the local one):
//
//	go run ./scripts/bench/controller -velad bin/velad -apps 100 -clusters 3
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/app"
	"github.com/velad-dev/velad/controller/cluster"
	"github.com/velad-dev/velad/controller/manager"
	"github.com/velad-dev/velad/internal/testenv"
	"github.com/velad-dev/velad/scripts/bench/internal/benchenv"
)

func main() {
	bin := flag.String("velad", "bin/velad", "velad binary")
	apps := flag.Int("apps", 1000, "applications to create")
	namespaces := flag.Int("namespaces", 10, "namespaces to spread them over")
	workers := flag.Int("workers", app.DefaultWorkers, "concurrent reconciles (default: the controller's)")
	qps := flag.Float64("qps", manager.DefaultQPS, "controller's client QPS (-1: no client-side limit; default: the controller's)")
	burst := flag.Int("burst", manager.DefaultBurst, "controller's client burst (default: the controller's)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of this process (controller + driver) from the first app created until all run")
	requests := flag.Bool("requests", false, "print the controller's API requests by verb and resource (count, average and p99 latency)")
	clusters := flag.Int("clusters", 0, "deliver every app to this many joined clusters (extra velad servers) instead of local")
	flag.Parse()
	joined = *clusters
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	cpuProfile = *cpuprofile
	traceRequests = *requests
	if err := run(*bin, *apps, *namespaces, *workers, float32(*qps), *burst, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var (
	cpuProfile    string
	traceRequests bool
	joined        int
	reqs          = &requestLog{byKey: map[string][]time.Duration{}}
)

func run(bin string, n, nsCount, workers int, qps float32, burst int, timeout time.Duration) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	env, err := benchenv.Start(bin, "controller")
	if err != nil {
		return err
	}
	defer env.Close()
	dir, cfg := env.Dir, env.Config
	cfg.QPS = -1
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := env.Controller(ctx)
	if err != nil {
		return err
	}
	mcfg := rest.CopyConfig(cfg)
	if traceRequests {
		mcfg.Wrap(reqs.wrap)
	}
	mgr, err := manager.New(mcfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0", Workers: workers, QPS: qps, Burst: burst})
	if err != nil {
		return err
	}
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		if err := mgr.Start(mctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	edges, err := joinClusters(ctx, c, bin, dir, joined)
	defer func() {
		for _, e := range edges {
			_ = e.Stop()
		}
	}()
	if err != nil {
		return err
	}
	for i := 0; i < nsCount; i++ {
		ns := &corev1.Namespace{}
		ns.Name = fmt.Sprintf("bench-%d", i)
		if err := c.Create(ctx, ns); err != nil {
			return err
		}
	}

	fmt.Printf("creating %d applications in %d namespaces (workers %d, client QPS %g burst %d, GOMAXPROCS %d)\n", n, nsCount, workers, qps, burst, runtime.GOMAXPROCS(0))
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := createApps(ctx, c, n, nsCount); err != nil {
		return err
	}
	created := time.Since(start)
	whileCreating, _ := histogram()
	var peakRSS int64
	for {
		running, err := countRunning(ctx, c)
		if err != nil {
			return err
		}
		if rss := procStatus("VmRSS"); rss > peakRSS {
			peakRSS = rss
		}
		if running >= n {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("only %d of %d running after %s", running, n, timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if err := countDelivered(ctx, edges, n); err != nil {
		return err
	}
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	count, p50, p99, avg, err := latency()
	if err != nil {
		return err
	}
	// Steady state: let periodic events settle, then measure memory.
	time.Sleep(5 * time.Second)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	where := "local"
	if joined > 0 {
		where = fmt.Sprintf("%d joined clusters", joined)
	}
	fmt.Printf("created in %s; all %d running (delivered to %s) after %s\n", created.Round(time.Millisecond), n, where, elapsed.Round(time.Millisecond))
	fmt.Printf("reconciles: %d; latency avg %s, p50 %s, p99 %s (histogram buckets, linear interpolation)\n",
		count, avg.Round(time.Microsecond), p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	if traceRequests {
		reqs.print()
	}
	if h, err := histogram(); err == nil && whileCreating != nil {
		after := minus(h, whileCreating)
		fmt.Printf("  while creating: %d reconciles, p50 %s, p99 %s; after: %d, p50 %s, p99 %s\n",
			whileCreating.GetSampleCount(), seconds(quantile(whileCreating, 0.5)).Round(time.Millisecond), seconds(quantile(whileCreating, 0.99)).Round(time.Millisecond),
			after.GetSampleCount(), seconds(quantile(after, 0.5)).Round(time.Millisecond), seconds(quantile(after, 0.99)).Round(time.Millisecond))
	}
	fmt.Printf("process memory: VmRSS %d MiB now, %d MiB peak sampled, VmHWM %d MiB; Go heap in use %d MiB after GC\n",
		procStatus("VmRSS")/1024, peakRSS/1024, procStatus("VmHWM")/1024, ms.HeapInuse>>20)
	return nil
}

func createApps(ctx context.Context, c client.Client, n, nsCount int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				a := &v1beta1.Application{}
				a.Name = fmt.Sprintf("app-%d", i)
				a.Namespace = fmt.Sprintf("bench-%d", i%nsCount)
				a.Spec.Components = []v1beta1.ApplicationComponent{{
					Name: fmt.Sprintf("web-%d", i), Type: "webservice",
					Properties: &k8sruntime.RawExtension{Raw: []byte(`{"image":"nginx:1.27","port":80}`)},
					Traits: []v1beta1.ApplicationTrait{{Type: "scaler",
						Properties: &k8sruntime.RawExtension{Raw: []byte(`{"replicas":0}`)}}},
				}}
				if joined > 0 {
					a.Spec.Policies = []v1beta1.AppPolicy{{Name: "edges", Type: "topology",
						Properties: &k8sruntime.RawExtension{Raw: []byte(`{"clusterLabelSelector":{"bench":"edge"}}`)}}}
				}
				if err := c.Create(ctx, a); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func countRunning(ctx context.Context, c client.Client) (int, error) {
	var l v1beta1.ApplicationList
	if err := c.List(ctx, &l); err != nil {
		return 0, err
	}
	running := 0
	for _, a := range l.Items {
		if a.Status.Phase == v1beta1.ApplicationRunning {
			running++
		}
	}
	return running, nil
}

// latency reads the reconcile-time histogram of the application controller.
func latency() (count uint64, p50, p99, avg time.Duration, err error) {
	h, err := histogram()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if os.Getenv("BENCH_BUCKETS") != "" {
		for _, b := range h.GetBucket() {
			fmt.Printf("  le %gs: %d\n", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
	count = h.GetSampleCount()
	avg = seconds(h.GetSampleSum() / float64(count))
	return count, seconds(quantile(h, 0.5)), seconds(quantile(h, 0.99)), avg, nil
}

// histogram is the reconcile-time histogram of the application controller.
func histogram() (*dto.Histogram, error) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_time_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabel(m, "controller", "application") {
				return m.GetHistogram(), nil
			}
		}
	}
	return nil, fmt.Errorf("no reconcile histogram for the application controller")
}

// minus is the histogram of the samples in h that are not in earlier.
func minus(h, earlier *dto.Histogram) *dto.Histogram {
	before := map[float64]uint64{}
	for _, b := range earlier.GetBucket() {
		before[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	out := &dto.Histogram{}
	count := h.GetSampleCount() - earlier.GetSampleCount()
	out.SampleCount = &count
	for _, b := range h.GetBucket() {
		c, ub := b.GetCumulativeCount()-before[b.GetUpperBound()], b.GetUpperBound()
		out.Bucket = append(out.Bucket, &dto.Bucket{CumulativeCount: &c, UpperBound: &ub})
	}
	return out
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

// quantile interpolates linearly inside the bucket holding q.
func quantile(h *dto.Histogram, q float64) float64 {
	buckets := h.GetBucket()
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].GetUpperBound() < buckets[j].GetUpperBound() })
	rank := q * float64(h.GetSampleCount())
	prevBound, prevCount := 0.0, 0.0
	for _, b := range buckets {
		cnt := float64(b.GetCumulativeCount())
		if cnt >= rank {
			if math.IsInf(b.GetUpperBound(), 1) {
				return prevBound
			}
			if cnt == prevCount {
				return b.GetUpperBound()
			}
			return prevBound + (b.GetUpperBound()-prevBound)*(rank-prevCount)/(cnt-prevCount)
		}
		prevBound, prevCount = b.GetUpperBound(), cnt
	}
	return prevBound
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// procStatus reads a kB field of /proc/self/status.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}

// requestLog times the controller's API requests by verb and resource.
type requestLog struct {
	mu    sync.Mutex
	byKey map[string][]time.Duration
}

type timedTransport struct {
	l    *requestLog
	next http.RoundTripper
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return timedTransport{l: l, next: rt}
}

func (t timedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if req.URL.Query().Get("watch") == "true" {
		return resp, err
	}
	key := req.Method + " " + resourceOf(req.URL.Path)
	t.l.mu.Lock()
	t.l.byKey[key] = append(t.l.byKey[key], time.Since(start))
	t.l.mu.Unlock()
	return resp, err
}

// resourceOf names the resource of an API path: /apis/G/V/namespaces/NS/R/NAME[/SUB] → R[/SUB].
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) > 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) > 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return path
	}
	if len(parts) > 2 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	if len(parts) > 2 {
		return parts[0] + "/" + parts[2]
	}
	return parts[0]
}

func (l *requestLog) print() {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.byKey))
	for k := range l.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := l.byKey[k]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		fmt.Printf("  %-45s %6d  avg %-10s p50 %-10s p99 %s\n", k, len(d), (sum / time.Duration(len(d))).Round(time.Millisecond),
			d[len(d)/2].Round(time.Millisecond), d[len(d)*99/100].Round(time.Millisecond))
	}
}

// joinClusters starts n velad servers and joins them as edge-1..n,
// labelled bench=edge.
func joinClusters(ctx context.Context, c client.Client, bin, dir string, n int) ([]*testenv.Server, error) {
	var edges []*testenv.Server
	for i := range n {
		s, err := testenv.NewServer(bin, filepath.Join(dir, fmt.Sprintf("edge-%d", i+1)))
		if err != nil {
			return edges, err
		}
		edges = append(edges, s)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, s := range edges {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Start() }()
	}
	wg.Wait()
	for i, s := range edges {
		if errs[i] != nil {
			return edges, fmt.Errorf("edge-%d: %w", i+1, errs[i])
		}
		cfg, err := s.RESTConfig()
		if err != nil {
			return edges, err
		}
		if err := rest.LoadTLSFiles(cfg); err != nil {
			return edges, err
		}
		secret, err := cluster.Secret(fmt.Sprintf("edge-%d", i+1), cfg, map[string]string{"bench": "edge"}, "")
		if err != nil {
			return edges, err
		}
		if err := c.Create(ctx, secret); err != nil {
			return edges, err
		}
	}
	return edges, nil
}

// countDelivered checks that every joined cluster got every app's
// Deployment.
func countDelivered(ctx context.Context, edges []*testenv.Server, n int) error {
	for i, s := range edges {
		cfg, err := s.RESTConfig()
		if err != nil {
			return err
		}
		ec, err := client.New(cfg, client.Options{})
		if err != nil {
			return err
		}
		var l appsv1.DeploymentList
		if err := ec.List(ctx, &l, client.HasLabels{v1beta1.LabelAppName}); err != nil {
			return err
		}
		if len(l.Items) != n {
			return fmt.Errorf("edge-%d has %d of the %d apps' Deployments", i+1, len(l.Items), n)
		}
	}
	return nil
}
