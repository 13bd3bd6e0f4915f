// Command restart measures `velad stop` + `velad start` on an installed
// velad (root) with many pods running: how long stop and start take, and
// the time from the stop until the node is Ready again from a fresh
// status and every pod is Ready, as the restarted kubelet reports them.
//
//	go run ./scripts/bench/restart -velad bin/velad -kubeconfig /etc/velad/velad.yaml -pods 50
//
// It runs a Deployment bench-restart of the hello image with -pods
// replicas in the default namespace and deletes it at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

const name = "bench-restart"

func main() {
	bin := flag.String("velad", "bin/velad", "velad binary")
	kubeconfig := flag.String("kubeconfig", "/etc/velad/velad.yaml", "admin kubeconfig of the installed velad")
	pods := flag.Int("pods", 50, "pods running through the restart")
	runs := flag.Int("runs", 1, "stop/start rounds")
	flag.Parse()
	if err := run(*bin, *kubeconfig, *pods, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, kubeconfig string, pods, runs int) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, deployment(int32(pods)), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Deployment %s: %w", name, err)
	}
	defer cs.AppsV1().Deployments("default").Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)})
	began := time.Now()
	if err := waitAllReady(ctx, cs, pods, time.Time{}, 10*time.Minute); err != nil {
		return err
	}
	fmt.Printf("%d pods Ready after %.1f s (first start)\n", pods, time.Since(began).Seconds())
	for i := 1; i <= runs; i++ {
		t0 := time.Now()
		if out, err := exec.Command(bin, "stop").CombinedOutput(); err != nil {
			return fmt.Errorf("velad stop: %v\n%s", err, out)
		}
		t1 := time.Now()
		if out, err := exec.Command(bin, "start", "--timeout", "5m").CombinedOutput(); err != nil {
			return fmt.Errorf("velad start: %v\n%s", err, out)
		}
		t2 := time.Now()
		if err := waitAllReady(ctx, cs, pods, t1, 5*time.Minute); err != nil {
			return err
		}
		t3 := time.Now()
		fmt.Printf("round %d: velad stop %.1f s, velad start %.1f s (node Ready, fresh status), every pod Ready %.1f s after the stop began\n",
			i, t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), t3.Sub(t0).Seconds())
	}
	return nil
}

// waitAllReady waits until the node is Ready from a heartbeat after
// since (zero: any) and n pods of the Deployment are Running and Ready.
func waitAllReady(ctx context.Context, cs kubernetes.Interface, n int, since time.Time, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, why := allReady(ctx, cs, n, since)
		if ok {
			return nil
		}
		last = why
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("not every pod Ready within %s: %s", timeout, last)
}

func allReady(ctx context.Context, cs kubernetes.Interface, n int, since time.Time) (bool, string) {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, err.Error()
	}
	for _, node := range nodes.Items {
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && (c.Status != corev1.ConditionTrue || c.LastHeartbeatTime.Time.Before(since.Truncate(time.Second))) {
				return false, fmt.Sprintf("node %s Ready=%s, heartbeat %s", node.Name, c.Status, c.LastHeartbeatTime)
			}
		}
	}
	list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return false, err.Error()
	}
	ready := 0
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	return ready == n, fmt.Sprintf("%d of %d pods Ready", ready, n)
}

// deployment runs n small hello pods with a readiness probe, so Ready
// means the container answers.
func deployment(n int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					Containers: []corev1.Container{{
						Name: "hello", Image: "docker.io/velad/hello:v1", ImagePullPolicy: corev1.PullNever,
						Ports: []corev1.ContainerPort{{ContainerPort: 8000}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstrPort(8000)}},
							PeriodSeconds: 2,
						},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourceMemory: resource.MustParse("8Mi")}},
					}},
				},
			},
		},
	}
}

func intstrPort(p int) intstr.IntOrString { return intstr.FromInt32(int32(p)) }
