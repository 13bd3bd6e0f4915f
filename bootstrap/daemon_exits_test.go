package bootstrap

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestExitsInLog(t *testing.T) {
	log := strings.Join([]string{
		"I1130 14:00:00 apiserver starting",
		"velad: start kube-apiserver: port 6443 is in use (--https-listen-port)",
		"velad supervise: 2026-11-30T14:00:01Z: velad server exited (1); starting it again in 1s",
		"I1130 14:00:02 apiserver starting",
		"velad supervise: 2026-11-30T14:00:05Z: velad server exited (137); starting it again in 2s",
		"velad supervise: velad server exited (1); starting it again in 4s", // an older velad's line
	}, "\n")
	got := exitsInLog([]byte(log))
	if len(got) != 3 {
		t.Fatalf("got %d exits, want 3: %+v", len(got), got)
	}
	if got[0].Code != "1" || got[0].Reason != "start kube-apiserver: port 6443 is in use (--https-listen-port)" ||
		!got[0].At.Equal(time.Date(2026, 11, 30, 14, 0, 1, 0, time.UTC)) {
		t.Errorf("first exit = %+v", got[0])
	}
	if got[1].Code != "137" || got[1].Reason != "" {
		t.Errorf("second exit (killed, no message) = %+v", got[1])
	}
	if !got[2].At.IsZero() {
		t.Errorf("a line without a time got %v", got[2].At)
	}
}

func TestCrashState(t *testing.T) {
	now := time.Date(2026, 11, 30, 14, 10, 0, 0, time.UTC)
	exit := func(ago time.Duration, reason string) serverExit {
		return serverExit{At: now.Add(-ago), Code: "1", Reason: reason}
	}
	for _, tc := range []struct {
		name    string
		exits   []serverExit
		looping bool
		detail  string // a part of it; "" = no detail at all
	}{
		{"never exited", nil, false, ""},
		{"exits long ago", []serverExit{exit(time.Hour, "x"), exit(30*time.Minute, "y")}, false, ""},
		{"undated exits", []serverExit{{Code: "1"}, {Code: "1"}}, false, ""},
		{"one recent exit", []serverExit{exit(10*time.Second, "port 6443 is in use")}, false, "exited once in the last 5m0s"},
		{"looping", []serverExit{exit(40*time.Second, "a"), exit(5*time.Second, "port 6443 is in use")}, true,
			"exited 2 times in the last 5m0s; last at "},
		{"looping names the last reason", []serverExit{exit(40*time.Second, "a"), exit(5*time.Second, "port 6443 is in use")}, true,
			"(exit 1): port 6443 is in use"},
		{"recovered", []serverExit{exit(3*time.Minute, "a"), exit(2*time.Minute, "b")}, false, "exited 2 times"},
		{"killed", []serverExit{exit(20*time.Second, ""), exit(5*time.Second, "")}, true, "no error printed (killed?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			looping, detail := crashState(tc.exits, now)
			if looping != tc.looping {
				t.Errorf("looping = %v, want %v (%s)", looping, tc.looping, detail)
			}
			if tc.detail == "" && detail != "" || !strings.Contains(detail, tc.detail) {
				t.Errorf("detail = %q, want it to contain %q", detail, tc.detail)
			}
		})
	}
}

func TestSystemdState(t *testing.T) {
	now := 10 * time.Hour
	since := func(d time.Duration) string { return strconv.FormatInt(int64(now-d)/1000, 10) }
	for _, tc := range []struct {
		name   string
		props  map[string]string
		reason string
		ok     bool
		detail string
	}{
		{"active", map[string]string{"ActiveState": "active", "SubState": "running", "NRestarts": "0"}, "", true, "systemd unit velad: active (running)"},
		{"inactive", map[string]string{"ActiveState": "inactive", "SubState": "dead"}, "", false, "inactive (dead)"},
		{"between restarts", map[string]string{"ActiveState": "activating", "SubState": "auto-restart", "NRestarts": "4", "ExecMainStatus": "1"},
			"port 6443 is in use", false, "crash-looping: restarted 4 times, last exit status 1: port 6443 is in use"},
		{"just restarted", map[string]string{"ActiveState": "active", "SubState": "running", "NRestarts": "3", "ActiveEnterTimestampMonotonic": since(10 * time.Second)},
			"boom", false, "crash-looping"},
		{"recovered", map[string]string{"ActiveState": "active", "SubState": "running", "NRestarts": "3", "ActiveEnterTimestampMonotonic": since(10 * time.Minute)},
			"boom", true, "restarted 3 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, detail := systemdState(tc.props, tc.reason, now)
			if ok != tc.ok || !strings.Contains(detail, tc.detail) {
				t.Errorf("got %v %q, want %v and %q", ok, detail, tc.ok, tc.detail)
			}
		})
	}
	if got := lastReason([]byte("velad: first\nother\nvelad: second\nI1130 x")); got != "second" {
		t.Errorf("lastReason = %q", got)
	}
}

// A descriptor velad inherited (flock's lock) does not reach the daemon.
func TestCloseInheritedOnExec(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// Inherited: not close-on-exec, as flock(1) leaves its lock.
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	closeInheritedOnExec()
	flags, err := unix.FcntlInt(w.Fd(), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Fatal("an inherited descriptor would reach the daemon")
	}
}
