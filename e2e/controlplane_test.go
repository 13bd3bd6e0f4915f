package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/velad-dev/velad/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func clientFor(t *testing.T, s *testenv.Server) kubernetes.Interface {
	t.Helper()
	cfg, err := s.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// eventually polls cond every 200 ms for at most limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, cond); err != nil {
		t.Fatalf("%s: not within %s: %v", what, limit, err)
	}
}

func TestControlPlaneServesAndRuns(t *testing.T) {
	s := testenv.New(t)
	cs := clientFor(t, s)
	ctx := context.Background()

	t.Run("objects round-trip", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "roundtrip"}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "roundtrip"}, Data: map[string]string{"k": "v"}}
		if _, err := cs.CoreV1().ConfigMaps("roundtrip").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := cs.CoreV1().ConfigMaps("roundtrip").Get(ctx, "c", metav1.GetOptions{})
		if err != nil || got.Data["k"] != "v" {
			t.Fatalf("read back %v, %v", got, err)
		}
	})

	t.Run("reports the embedded Kubernetes version", func(t *testing.T) {
		// kubectl, Helm's KubeVersion and charts' kubeVersion constraints
		// read it: it must be the real release, as `velad version` says.
		info, err := cs.Discovery().ServerVersion()
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(s.Binary, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("velad version: %v: %s", err, out)
		}
		if !strings.HasPrefix(info.GitVersion, "v1.") || !strings.Contains(string(out), "Kubernetes: "+info.GitVersion+"\n") {
			t.Fatalf("API server reports %q (major %q minor %q); velad version says %s", info.GitVersion, info.Major, info.Minor, out)
		}
		if info.Minor == "" || !strings.HasPrefix(info.GitVersion, "v"+info.Major+"."+info.Minor+".") {
			t.Fatalf("API server reports %q with major %q minor %q", info.GitVersion, info.Major, info.Minor)
		}
	})

	t.Run("controller-manager runs controllers", func(t *testing.T) {
		// The service-account controller gives every namespace a default SA.
		eventually(t, time.Minute, "default ServiceAccount in namespace roundtrip", func(ctx context.Context) (bool, error) {
			_, err := cs.CoreV1().ServiceAccounts("roundtrip").Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		})
	})

	t.Run("scheduler schedules", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "roundtrip"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "velad/hello"}}},
		}
		if _, err := cs.CoreV1().Pods("roundtrip").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// With no node the scheduler can only say so, which proves it ran.
		eventually(t, time.Minute, "PodScheduled=False from the scheduler", func(ctx context.Context) (bool, error) {
			p, err := cs.CoreV1().Pods("roundtrip").Get(ctx, "p", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
					return true, nil
				}
			}
			return false, nil
		})
	})

	t.Run("anonymous requests are refused", func(t *testing.T) {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // no client cert on purpose
		}}
		for _, path := range []string{"/api/v1/namespaces", "/readyz", "/version"} {
			resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d%s", s.Ports.APIServer, path))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("anonymous GET %s = %d, want 401", path, resp.StatusCode)
			}
		}
	})

	t.Run("velad kubeconfig works with client-go", func(t *testing.T) {
		for _, args := range [][]string{
			{"kubeconfig", "--data-dir", s.DataDir},
			{"kubeconfig", "--data-dir", s.DataDir, "--external"},
		} {
			out, err := exec.Command(s.Binary, args...).Output()
			if err != nil {
				t.Fatalf("velad %v: %v", args, err)
			}
			cfg, err := clientcmd.RESTConfigFromKubeConfig(out)
			if err != nil {
				t.Fatalf("velad %v printed an unusable kubeconfig: %v", args, err)
			}
			want := fmt.Sprintf("https://127.0.0.1:%d", s.Ports.APIServer)
			if cfg.Host != want {
				t.Errorf("velad %v: server %s, want %s", args, cfg.Host, want)
			}
			nss, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if err != nil || len(nss.Items) == 0 {
				t.Fatalf("velad %v: list namespaces: %v", args, err)
			}
		}
	})

	t.Run("files are private", func(t *testing.T) {
		for path, want := range map[string]os.FileMode{
			s.DataDir + "/server/tls":                   0o700,
			s.DataDir + "/server/tls/client-ca.key":     0o600,
			s.DataDir + "/server/cred/admin.kubeconfig": 0o600,
			s.DataDir + "/server/token":                 0o600,
			s.Kubeconfig:                                0o600,
		} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s mode %o, want %o", path, fi.Mode().Perm(), want)
			}
		}
		tok, err := os.ReadFile(s.DataDir + "/server/token")
		if err != nil || !strings.HasPrefix(string(tok), "K10") {
			t.Errorf("token %q, %v", tok, err)
		}
	})
}

func TestControlPlaneRestart(t *testing.T) {
	s := testenv.New(t)
	ctx := context.Background()
	create := func(name string) {
		t.Helper()
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
		if _, err := clientFor(t, s).CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mustExist := func(names ...string) {
		t.Helper()
		for _, name := range names {
			if _, err := clientFor(t, s).CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{}); err != nil {
				t.Fatalf("configmap %s after restart: %v", name, err)
			}
		}
	}
	ca, err := os.ReadFile(s.DataDir + "/server/tls/client-ca.crt")
	if err != nil {
		t.Fatal(err)
	}

	create("before-sigterm")
	if err := s.Stop(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	if _, err := os.Stat(s.DataDir + "/server/db/kine.sock"); !os.IsNotExist(err) {
		t.Errorf("kine socket left after a clean stop: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	mustExist("before-sigterm")

	create("before-kill")
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start after kill -9: %v", err)
	}
	mustExist("before-sigterm", "before-kill")

	if again, _ := os.ReadFile(s.DataDir + "/server/tls/client-ca.crt"); string(again) != string(ca) {
		t.Error("the client CA changed across restarts")
	}
	// The kubeconfig written before the restarts still works.
	if _, err := clientFor(t, s).CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = clientFor(t, s).CoreV1().ConfigMaps("default").Get(ctx, "never-created", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("get of a missing object = %v, want NotFound", err)
	}
}
