package bootstrap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
)

// Where an installed velad lives on the host.
const (
	InstalledBinary = "/usr/local/bin/velad"
	UnitFile        = "/etc/systemd/system/velad.service"
	ConfigDir       = "/etc/velad"
	ArgsFile        = "/etc/velad/server.args"
	LogFile         = "/var/log/velad.log"
	PIDFile         = "/run/velad/supervisor.pid"
)

// Daemon runs `velad server` in the background and keeps it running.
type Daemon interface {
	// Kind names the daemon ("systemd" or "process").
	Kind() string
	// Install records the server arguments and starts the daemon.
	Install(args []string) error
	// Start starts an installed daemon.
	Start() error
	// Stop stops it and waits until velad server is gone.
	Stop() error
	// Running reports whether the daemon runs (even if velad server under
	// it keeps exiting), and a one-line state.
	Running() (bool, string)
	// Healthy reports whether velad server runs and is not crash-looping;
	// the state says why it keeps exiting (its last error) when it is.
	Healthy() (bool, string)
	// Remove stops the daemon and deletes its files.
	Remove() error
}

// DaemonSpec names one daemon: what it runs (Binary Command args…) and its
// files. The server's are host-wide (ServerDaemon); an agent's are derived
// from its data dir (AgentDaemon), so agents on one host never share one.
type DaemonSpec struct {
	// Name is the systemd unit's name (without .service).
	Name string
	// Command is the velad subcommand run: "server" or "agent".
	Command string
	Binary  string

	UnitFile, ArgsFile, LogFile, PIDFile string
	// UnitMode is the unit file's mode: an agent's arguments hold its
	// join token.
	UnitMode os.FileMode
}

// ServerDaemon is the daemon `velad install` installs.
func ServerDaemon() DaemonSpec {
	return DaemonSpec{Name: "velad", Command: "server", Binary: InstalledBinary,
		UnitFile: UnitFile, ArgsFile: ArgsFile, LogFile: LogFile, PIDFile: PIDFile, UnitMode: 0o644}
}

// AgentDaemon is the daemon `velad join` installs for the agent of a data
// dir: every file but the systemd unit lives in the data dir.
func AgentDaemon(p config.Paths) DaemonSpec {
	return DaemonSpec{Name: p.AgentDaemonName, Command: "agent", Binary: p.AgentBinary,
		UnitFile: filepath.Join(filepath.Dir(UnitFile), p.AgentDaemonName+".service"),
		ArgsFile: p.AgentDaemonArgs, LogFile: p.AgentDaemonLog, PIDFile: p.AgentDaemonPID, UnitMode: 0o600}
}

// NewDaemon is the server's daemon: see NewDaemonFor.
func NewDaemon() Daemon { return NewDaemonFor(ServerDaemon()) }

// NewDaemonFor picks systemd where it is PID 1, else a supervised process.
func NewDaemonFor(spec DaemonSpec) Daemon {
	if comm, err := os.ReadFile("/proc/1/comm"); err == nil && strings.TrimSpace(string(comm)) == "systemd" {
		if _, err := exec.LookPath("systemctl"); err == nil {
			return systemdDaemon{spec}
		}
	}
	return processDaemon{spec}
}

// UnitContent renders the systemd unit for the server arguments (pure).
func UnitContent(args []string) string { return ServerDaemon().UnitContent(args) }

// UnitContent renders the systemd unit for the daemon's arguments (pure).
func (spec DaemonSpec) UnitContent(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = strconv.Quote(a)
	}
	what := "single-node application platform"
	if spec.Command != "server" {
		what = "a node (" + spec.Command + ") joined to a velad server"
	}
	return fmt.Sprintf(`[Unit]
Description=velad: %s
Documentation=velad --help
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
ExecStart=%s %s %s
Restart=always
RestartSec=5s
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStopSec=60s

[Install]
WantedBy=multi-user.target
`, what, spec.Binary, spec.Command, strings.Join(quoted, " "))
}

type systemdDaemon struct{ spec DaemonSpec }

func (systemdDaemon) Kind() string { return "systemd" }

func (d systemdDaemon) Install(args []string) error {
	if _, err := fileutil.WriteIfChanged(d.spec.UnitFile, []byte(d.spec.UnitContent(args)), d.spec.UnitMode); err != nil {
		return err
	}
	if err := systemctl("daemon-reload"); err != nil {
		return err
	}
	if err := systemctl("enable", d.spec.Name); err != nil {
		return err
	}
	return systemctl("restart", d.spec.Name)
}

func (d systemdDaemon) Start() error { return systemctl("start", d.spec.Name) }
func (d systemdDaemon) Stop() error  { return systemctl("stop", d.spec.Name) }

func (d systemdDaemon) Running() (bool, string) {
	out, _ := exec.Command("systemctl", "is-active", d.spec.Name).Output()
	state := strings.TrimSpace(string(out))
	// activating: systemd is between restarts of a crashing velad server.
	return state == "active" || state == "activating" || state == "reloading", "systemd unit " + d.spec.Name + ": " + state
}

// Healthy is true while the unit is active and velad server is not
// crash-looping (systemd restarting it); the state then says why it
// exits (its last error, from the journal).
func (d systemdDaemon) Healthy() (bool, string) {
	out, _ := exec.Command("systemctl", "show", d.spec.Name, "--no-pager",
		"-p", "ActiveState", "-p", "SubState", "-p", "NRestarts", "-p", "ExecMainStatus", "-p", "ActiveEnterTimestampMonotonic").Output()
	props := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
			props[k] = v
		}
	}
	journal, _ := exec.Command("journalctl", "-u", d.spec.Name, "-n", "400", "-o", "cat", "--no-pager").Output()
	return systemdState(props, lastReason(journal), monotonicNow())
}

// systemdState judges the unit from `systemctl show` properties: it
// crash-loops when systemd is between restarts (auto-restart) or it
// restarted and has been active less than recoveredAfter.
func systemdState(props map[string]string, reason string, now time.Duration) (bool, string) {
	state := "systemd unit velad: " + props["ActiveState"]
	if sub := props["SubState"]; sub != "" {
		state += " (" + sub + ")"
	}
	restarts, _ := strconv.Atoi(props["NRestarts"])
	if reason == "" {
		reason = "no error printed (killed?)"
	}
	why := fmt.Sprintf("restarted %d times, last exit status %s: %s; see journalctl -u velad", restarts, props["ExecMainStatus"], reason)
	if props["SubState"] == "auto-restart" {
		return false, state + ": velad server is crash-looping: " + why
	}
	if props["ActiveState"] != "active" {
		return false, state
	}
	if restarts > 0 {
		enteredUS, _ := strconv.ParseInt(props["ActiveEnterTimestampMonotonic"], 10, 64)
		if up := now - time.Duration(enteredUS)*time.Microsecond; enteredUS > 0 && up < recoveredAfter {
			return false, state + ": velad server is crash-looping: " + why
		}
		return true, state + "; " + why
	}
	return true, state
}

// lastReason is the last "velad: …" line of a log (velad server's fatal
// error), "" when there is none.
func lastReason(log []byte) string {
	reason := ""
	for _, l := range strings.Split(string(log), "\n") {
		if strings.HasPrefix(l, "velad: ") {
			reason = strings.TrimPrefix(l, "velad: ")
		}
	}
	return reason
}

// monotonicNow is systemd's monotonic clock (CLOCK_MONOTONIC), which its
// *TimestampMonotonic properties count in.
func monotonicNow() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

func (d systemdDaemon) Remove() error {
	if _, err := os.Stat(d.spec.UnitFile); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	_ = systemctl("disable", "--now", d.spec.Name)
	if err := os.Remove(d.spec.UnitFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return systemctl("daemon-reload")
}

func systemctl(args ...string) error {
	out, err := exec.Command("systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// superviseScript restarts velad server (or agent: $2) whenever it exits on
// its own, with backoff, and forwards SIGTERM/SIGINT to it, then waits for
// it.
const superviseScript = `bin=$1; what=$2; shift 2
stop=
trap 'stop=1; kill -TERM "$pid" 2>/dev/null' TERM INT
delay=1
while :; do
	"$bin" "$what" "$@" &
	pid=$!
	started=$(date +%s)
	wait "$pid"; code=$?
	while kill -0 "$pid" 2>/dev/null; do wait "$pid"; done
	[ -n "$stop" ] && exit 0
	[ $(( $(date +%s) - started )) -gt 60 ] && delay=1
	echo "velad supervise: $(date -u +%Y-%m-%dT%H:%M:%SZ): velad $what exited ($code); starting it again in ${delay}s"
	sleep "$delay" & wait $!
	[ -n "$stop" ] && exit 0
	delay=$(( delay * 2 )); [ "$delay" -gt 30 ] && delay=30
done`

// processDaemon runs a supervising shell loop detached: it restarts velad server
// when it dies and is found again through its pid file.
type processDaemon struct{ spec DaemonSpec }

func (processDaemon) Kind() string { return "process" }

func (d processDaemon) Install(args []string) error {
	if err := os.MkdirAll(filepath.Dir(d.spec.ArgsFile), 0o755); err != nil {
		return err
	}
	if _, err := fileutil.WriteIfChanged(d.spec.ArgsFile, []byte(strings.Join(args, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	if err := d.Stop(); err != nil {
		return err
	}
	return d.Start()
}

// ServerArgs reads the arguments install recorded.
func ServerArgs() ([]string, error) { return recordedArgs(ArgsFile) }

// recordedArgs reads the arguments a process daemon's Install recorded.
func recordedArgs(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("velad is not installed here (%v); run velad install", err)
	}
	var args []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l != "" {
			args = append(args, l)
		}
	}
	return args, nil
}

func (d processDaemon) Start() error {
	if ok, _ := d.Running(); ok {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(d.spec.PIDFile), 0o755); err != nil {
		return err
	}
	log, err := os.OpenFile(d.spec.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	args, err := recordedArgs(d.spec.ArgsFile)
	if err != nil {
		return err
	}
	// A shell loop supervises: a few hundred KB of memory, where a second
	// velad process would hold ~170 MB just for linking Kubernetes.
	cmd := exec.Command("/bin/sh", append([]string{"-c", superviseScript, "velad-supervise", d.spec.Binary, d.spec.Command}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// The daemon outlives this command: it must not keep descriptors this
	// process inherited (e.g. the lock of `flock LOCK velad install`,
	// which would then be held until uninstall).
	closeInheritedOnExec()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start velad supervisor: %w", err)
	}
	if err := fileutil.WriteAtomic(d.spec.PIDFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		return err
	}
	return cmd.Process.Release()
}

func (d processDaemon) Stop() error {
	pid, ok := supervisorPID(d.spec.PIDFile)
	if !ok {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			os.Remove(d.spec.PIDFile)
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("velad supervisor (pid %d) did not stop within 90s; killed it", pid)
}

func (d processDaemon) Running() (bool, string) {
	pid, ok := supervisorPID(d.spec.PIDFile)
	if !ok {
		return false, "velad supervisor: not running"
	}
	return true, fmt.Sprintf("velad supervisor: running (pid %d, log %s)", pid, d.spec.LogFile)
}

// Healthy is true while the supervisor runs and velad server under it is
// not crash-looping; the state then says why it exits (its last error,
// from the log).
func (d processDaemon) Healthy() (bool, string) {
	pid, ok := supervisorPID(d.spec.PIDFile)
	if !ok {
		return false, "velad supervisor: not running"
	}
	log, what := d.spec.LogFile, d.spec.Command
	looping, exits := crashState(exitsInLog(logTail(log, 256<<10)), time.Now())
	state := fmt.Sprintf("velad supervisor: running (pid %d, log %s)", pid, log)
	switch {
	case looping:
		return false, fmt.Sprintf("velad %s is crash-looping under the supervisor (pid %d): %s; see %s", what, pid, exits, log)
	case !childAlive(pid, d.spec.Command):
		if exits == "" {
			exits = "velad " + what + " is not running"
		}
		return false, fmt.Sprintf("velad supervisor (pid %d) is starting velad %s again: %s; see %s", pid, what, exits, log)
	case exits != "":
		state += "; " + exits
	}
	return true, state
}

// childAlive tells whether the supervisor has a velad server (or agent:
// command) child.
func childAlive(supervisor int, command string) bool {
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", supervisor, supervisor))
	if err != nil {
		return true // cannot tell: do not claim it is down
	}
	for _, f := range strings.Fields(string(children)) {
		pid, err := strconv.Atoi(f)
		if err != nil || !alive(pid) {
			continue
		}
		if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmdline), command) {
			return true
		}
	}
	return false
}

func (d processDaemon) Remove() error {
	if err := d.Stop(); err != nil {
		return err
	}
	if err := os.Remove(d.spec.ArgsFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// closeInheritedOnExec marks every descriptor above stderr close-on-exec,
// so children get only what exec.Cmd passes them.
func closeInheritedOnExec() {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return
	}
	entries, err := os.ReadDir("/proc/self/fd") // kernels before 5.11
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// supervisorPID reads the pid file and checks the process is a velad.
func supervisorPID(file string) (int, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 || !alive(pid) {
		return 0, false
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !strings.Contains(string(cmdline), "velad") {
		return 0, false // the pid was reused by another program
	}
	return pid, true
}

func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie has state Z after the command name.
	s := string(stat)
	if i := strings.LastIndex(s, ")"); i > 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}
