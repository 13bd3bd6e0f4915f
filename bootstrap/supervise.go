package bootstrap

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Supervise runs `velad server` with the installed arguments and starts it
// again whenever it exits on its own, with backoff, until ctx ends; then it
// stops the server with SIGTERM and waits for it.
func Supervise(ctx context.Context, binary string, logf func(string, ...any)) error {
	backoff := time.Second
	for {
		args, err := ServerArgs()
		if err != nil {
			return err
		}
		cmd := exec.Command(binary, append([]string{"server"}, args...)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		started := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(75 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			return nil
		case err := <-done:
			if time.Since(started) > time.Minute {
				backoff = time.Second
			}
			logf("velad server exited (%v); starting it again in %s", err, backoff)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}
