// Command ingress measures the ingress addon on an installed velad (root,
// the addon enabled): requests per second and latency (p50, p99) through
// Traefik on 127.0.0.1:80 to one hello pod, and the same straight to the
// pod's IP for comparison, with keep-alive connections on loopback for a
// fixed time; then Traefik's idle RSS and its share of the velad binary.
//
//	go run ./scripts/bench/ingress -velad bin/velad -kubeconfig /etc/velad/velad.yaml
//
// It deploys the app bench-hello (webservice + gateway trait, host
// bench.local) and deletes it at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const app = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: bench-hello}
spec:
  components:
  - name: bench-hello
    type: webservice
    properties:
      image: velad/hello:v1
      ports: [{port: 8000, expose: true}]
    traits:
    - type: gateway
      properties: {domain: bench.local, http: {"/": 8000}}
`

func main() {
	bin := flag.String("velad", "bin/velad", "velad binary")
	kubeconfig := flag.String("kubeconfig", "/etc/velad/velad.yaml", "admin kubeconfig of the installed velad")
	duration := flag.Duration("duration", 10*time.Second, "how long each measurement sends requests")
	conns := flag.Int("conns", 16, "concurrent keep-alive connections")
	flag.Parse()
	if err := run(*bin, *kubeconfig, *duration, *conns); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, kubeconfig string, duration time.Duration, conns int) error {
	f, err := os.CreateTemp("", "bench-hello-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(app); err != nil {
		return err
	}
	f.Close()
	if out, err := exec.Command(bin, "up", "-f", f.Name(), "--kubeconfig", kubeconfig, "--wait", "--timeout", "2m").CombinedOutput(); err != nil {
		return fmt.Errorf("velad up: %v\n%s", err, out)
	}
	defer exec.Command(bin, "delete", "bench-hello", "--kubeconfig", kubeconfig).Run()
	out, err := exec.Command(bin, "kubectl", "--kubeconfig", kubeconfig, "get", "pods", "-l", "app.oam.dev/component=bench-hello",
		"-o", "jsonpath={.items[0].status.podIP}").Output()
	if err != nil || len(out) == 0 {
		return fmt.Errorf("pod IP of bench-hello: %v", err)
	}
	podIP := string(out)
	// Wait (bounded) until the ingress routes the new app.
	ready := false
	for i := 0; i < 60 && !ready; i++ {
		ready = once("http://127.0.0.1/", "bench.local") == nil
		if !ready {
			time.Sleep(time.Second)
		}
	}
	if !ready {
		return fmt.Errorf("http://127.0.0.1/ with Host bench.local does not answer; is the ingress addon enabled?")
	}
	if rss, err := processRSS("traefik"); err == nil {
		fmt.Printf("Traefik RSS, idle: %.1f MiB\n", float64(rss)/(1<<20))
	} else {
		fmt.Println("Traefik RSS:", err)
	}
	fmt.Printf("load: %d keep-alive connections for %s each, on loopback (GOMAXPROCS %s)\n", conns, duration, os.Getenv("GOMAXPROCS"))
	for _, target := range []struct{ name, url, host string }{
		{"through the ingress (127.0.0.1:80, Host bench.local)", "http://127.0.0.1/", "bench.local"},
		{"straight to the pod (" + podIP + ":8000)", "http://" + podIP + ":8000/", ""},
	} {
		load(target.url, target.host, conns, time.Second) // warm up
		r := load(target.url, target.host, conns, duration)
		fmt.Printf("%-58s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n", target.name, r.rps, ms(r.p50), ms(r.p99), r.errors)
	}
	if rss, err := processRSS("traefik"); err == nil {
		fmt.Printf("Traefik RSS, after the load: %.1f MiB\n", float64(rss)/(1<<20))
	}
	return sizes(bin)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func once(url, host string) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Host = host
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	return nil
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int
}

// load sends requests from conns goroutines, each on its own keep-alive
// connection, for d, and reports throughput and latency percentiles.
func load(url, host string, conns int, d time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			var mine []time.Duration
			bad := 0
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				req.Host = host
				t0 := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						bad++
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := result{errors: errs}
	if len(lat) > 0 {
		r.rps = float64(len(lat)) / elapsed.Seconds()
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[len(lat)*99/100]
	}
	return r
}

// processRSS is the resident memory of the process named comm.
func processRSS(comm string) (int64, error) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		c, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if strings.TrimSpace(string(c)) != comm {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no %s process", comm)
}

// sizes prints Traefik's payload beside the velad binary it is part of.
func sizes(bin string) error {
	root := filepath.Join(filepath.Dir(bin), "..")
	st, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Printf("velad binary: %.1f MB (limit 300 MB with every addon)\n", float64(st.Size())/1e6)
	for _, f := range []string{"embedded/assets/payload/images-traefik.tar.zst", "_output/traefik/v3.6.0/traefik"} {
		if s, err := os.Stat(filepath.Join(root, f)); err == nil {
			fmt.Printf("%-50s %.1f MB\n", f, float64(s.Size())/1e6)
		}
	}
	return nil
}
