package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remote "k8s.io/cri-client/pkg"

	"github.com/velad-dev/velad/bootstrap/netns"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/containerd"
	"github.com/velad-dev/velad/embedded/images"
)

// stopPods starts the node's containerd on its own (velad server is
// stopped by now) and stops and removes every pod sandbox through the CRI,
// so the CNI plugins release addresses, veths and rules; then it stops
// containerd again. It records each sandbox's network namespace, as
// containerd knows it: those are velad's to remove (removeNetworking),
// and no other. Before stopping, a namespace another program's bind mount
// over /run/netns hides is surfaced (package netns), so containerd can
// tear its network down and remove it.
func (u *uninstaller) stopPods(ctx context.Context) error {
	p := u.paths
	if _, err := os.Stat(filepath.Join(p.RuntimeBinDir, "containerd")); err != nil {
		return nil // never ran a node
	}
	if _, err := os.Stat(p.ContainerdConfig); err != nil {
		return nil
	}
	cmd := containerd.Command(p.RuntimeBinDir, p)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start containerd for cleanup: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var rs interface {
		ListPodSandbox(context.Context, *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
		StopPodSandbox(context.Context, string) error
		RemovePodSandbox(context.Context, string) error
	}
	for rs == nil {
		if _, err := os.Stat(p.ContainerdSocket); err == nil {
			svc, err := remote.NewRemoteRuntimeService(ctx, "unix://"+p.ContainerdSocket, 10*time.Second, nil, false)
			if err == nil {
				rs = svc
				break
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containerd did not come up for cleanup: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	var sandboxes []*runtimeapi.PodSandbox
	var err error
	for i := 0; i < 50; i++ { // the CRI plugin may need a moment after the socket appears
		if sandboxes, err = rs.ListPodSandbox(ctx, nil); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("list pod sandboxes: %w", err)
	}
	var errs []error
	for _, sb := range sandboxes {
		path, err := sandboxNetns(ctx, p, sb.Id)
		if err != nil {
			errs = append(errs, fmt.Errorf("network namespace of pod %s/%s: %w", sb.Metadata.Namespace, sb.Metadata.Name, err))
			continue
		}
		if path != "" && !slices.Contains(u.podNetns, path) {
			u.podNetns = append(u.podNetns, path)
		}
	}
	u.askedRuntime = len(errs) == 0
	// A failure here shows again, with what is left, when the networking
	// step removes these namespaces.
	_ = netns.Surface(u.o.ProcRoot, u.podNetns)
	for _, sb := range sandboxes {
		if err := rs.StopPodSandbox(ctx, sb.Id); err != nil {
			errs = append(errs, fmt.Errorf("stop pod %s/%s: %w", sb.Metadata.Namespace, sb.Metadata.Name, err))
			continue
		}
		if err := rs.RemovePodSandbox(ctx, sb.Id); err != nil {
			errs = append(errs, fmt.Errorf("remove pod %s/%s: %w", sb.Metadata.Namespace, sb.Metadata.Name, err))
		}
	}
	return errors.Join(errs...)
}

// sandboxNetns reads a pod sandbox's network namespace file from the OCI
// spec containerd keeps for the sandbox's container (ctr containers info
// --spec). The CRI's sandbox status says it too, but fails when the
// namespace is hidden under a layer (containerd then tries to remove the
// file, and that is busy): exactly the sandboxes this is for.
func sandboxNetns(ctx context.Context, p config.Paths, id string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(p.RuntimeBinDir, "ctr"), "--address", p.ContainerdSocket, "--namespace", images.Namespace,
		"containers", "info", "--spec", id)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ctr containers info %s: %v: %s", id, err, strings.TrimSpace(stderr.String()))
	}
	return SpecNetns(out)
}

// SpecNetns returns the network namespace file of an OCI runtime spec
// (JSON); "" when the container shares the host's network (pure).
func SpecNetns(spec []byte) (string, error) {
	var v struct {
		Linux *struct {
			Namespaces []struct{ Type, Path string }
		}
	}
	if err := json.Unmarshal(spec, &v); err != nil {
		return "", fmt.Errorf("read the OCI spec: %w", err)
	}
	if v.Linux == nil {
		return "", errors.New("the OCI spec has no linux section")
	}
	for _, ns := range v.Linux.Namespaces {
		if ns.Type == "network" {
			return ns.Path, nil
		}
	}
	return "", nil
}
