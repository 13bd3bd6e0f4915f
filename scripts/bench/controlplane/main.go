// Command controlplane measures the embedded control plane: cold start
// (fresh data dir) and warm restart until every component is ready, the
// median of several runs each, and the RSS of an idle server.
//
//	go run ./scripts/bench/controlplane -velad bin/velad
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/velad-dev/velad/internal/testenv"
)

func main() {
	bin := flag.String("velad", "bin/velad", "velad binary")
	runs := flag.Int("runs", 5, "starts per measurement")
	idle := flag.Duration("idle", 60*time.Second, "how long the server idles before its RSS is read")
	flag.Parse()
	if err := run(*bin, *runs, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin string, runs int, idle time.Duration) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "velad-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	var cold []time.Duration
	for i := range runs {
		s, err := testenv.NewServer(bin, filepath.Join(work, fmt.Sprintf("cold-%d", i)))
		if err != nil {
			return err
		}
		d, err := timeStart(s)
		if err != nil {
			return err
		}
		cold = append(cold, d)
	}

	warmServer, err := testenv.NewServer(bin, filepath.Join(work, "warm"))
	if err != nil {
		return err
	}
	if _, err := timeStart(warmServer); err != nil { // creates the data dir
		return err
	}
	var warm []time.Duration
	for range runs {
		d, err := timeStart(warmServer)
		if err != nil {
			return err
		}
		warm = append(warm, d)
	}

	rss, err := idleRSS(warmServer, idle)
	if err != nil {
		return err
	}
	fmt.Printf("cold start to ready (fresh data dir), median of %d: %s  (runs %v)\n", runs, median(cold), round(cold))
	fmt.Printf("warm restart to ready, median of %d:                 %s  (runs %v)\n", runs, median(warm), round(warm))
	fmt.Printf("RSS of velad server --disable-agent after %s idle: %d MB\n", idle, rss/1024)
	return nil
}

// timeStart starts s, measures until every component is ready, and stops it.
func timeStart(s *testenv.Server) (time.Duration, error) {
	begin := time.Now()
	if err := s.Launch(); err != nil {
		return 0, err
	}
	if err := s.WaitReady(testenv.StartTimeout); err != nil {
		_ = s.Stop()
		return 0, err
	}
	d := time.Since(begin)
	return d, s.Stop()
}

func idleRSS(s *testenv.Server, idle time.Duration) (int, error) {
	if err := s.Start(); err != nil {
		return 0, err
	}
	defer s.Stop()
	time.Sleep(idle)
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kb int
			_, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", s.PID())
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Millisecond)
}

func round(ds []time.Duration) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Round(10*time.Millisecond).String())
	}
	return out
}
