package bootstrap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/velad-dev/velad/embedded/config"
)

// InstallKind is what uninstall finds installed in a data dir.
type InstallKind int

const (
	// NothingInstalled: the data dir is neither the installed server's
	// nor an agent's, and does not exist.
	NothingInstalled InstallKind = iota
	// ServerInstalled: the installed daemon (`velad install`) runs a
	// server on this data dir, or the default data dir of a half-done
	// install whose daemon is already gone.
	ServerInstalled
	// AgentInstalled: an agent joined a server from this data dir.
	AgentInstalled
)

// Kind decides what `velad uninstall` removes for o's data dir, from what
// is installed there: an agent's join state, or the installed daemon's
// recorded --data-dir. A data dir that is neither is refused with an error
// (and nothing removed): uninstalling the server there would stop another
// install's daemon and delete its host-wide files.
func (o *UninstallOptions) Kind() (InstallKind, error) {
	p := o.Config.Paths()
	_, err := os.Stat(p.JoinFile)
	joined := err == nil
	installed, recorded, err := InstalledDataDir()
	if err != nil && !joined {
		return NothingInstalled, err
	}
	_, err = os.Stat(p.DataDir)
	return decideKind(filepath.Clean(p.DataDir), joined, installed, recorded, err == nil)
}

// decideKind is Kind's decision (pure): dataDir, whether an agent joined
// from it, the installed server's data dir (if one is recorded) and
// whether dataDir exists.
func decideKind(dataDir string, joined bool, installed string, recorded, exists bool) (InstallKind, error) {
	switch {
	case joined:
		return AgentInstalled, nil
	case recorded && installed == dataDir:
		return ServerInstalled, nil
	case recorded:
		return NothingInstalled, fmt.Errorf("%s is not the data dir of the velad installed here (that is %s) nor an agent's; nothing removed (to remove the installed velad: velad uninstall --data-dir %s)", dataDir, installed, installed)
	case dataDir == config.DefaultDataDir:
		// No daemon recorded: an install or uninstall that stopped half
		// way; the default data dir's leftovers are the server's.
		return ServerInstalled, nil
	case !exists:
		return NothingInstalled, nil
	}
	return NothingInstalled, fmt.Errorf("nothing velad installed uses %s (no installed server on it, no agent joined from it); nothing removed (a foreground velad server or agent keeps its files there: stop it and delete the folder)", dataDir)
}

// InstalledDataDir is the --data-dir of the installed server daemon, read
// from its recorded arguments (the process daemon's args file, or the
// systemd unit); recorded is false when no server is installed.
func InstalledDataDir() (dataDir string, recorded bool, err error) {
	args, err := recordedServerArgs()
	if err != nil || args == nil {
		return "", false, err
	}
	dataDir = config.DefaultDataDir
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--data-dir="):
			dataDir = strings.TrimPrefix(a, "--data-dir=")
		case (a == "--data-dir" || a == "-d") && i+1 < len(args):
			dataDir = args[i+1]
		}
	}
	return filepath.Clean(dataDir), true, nil
}

// recordedServerArgs returns the server arguments install recorded, nil
// when there are none.
func recordedServerArgs() ([]string, error) {
	if _, err := os.Stat(ArgsFile); err == nil {
		return ServerArgs()
	}
	unit, err := os.ReadFile(UnitFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return unitServerArgs(string(unit))
}

// unitServerArgs parses the arguments of UnitContent's ExecStart line.
func unitServerArgs(unit string) ([]string, error) {
	for _, l := range strings.Split(unit, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), "ExecStart=")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 || fields[1] != "server" {
			break
		}
		args := []string{}
		for _, f := range quotedFields(strings.Join(fields[2:], " ")) {
			a, err := strconv.Unquote(f)
			if err != nil {
				return nil, fmt.Errorf("read %s: argument %s: %w", UnitFile, f, err)
			}
			args = append(args, a)
		}
		return args, nil
	}
	return nil, fmt.Errorf("read %s: no ExecStart line running velad server; remove the unit by hand if velad did not write it", UnitFile)
}

// quotedFields splits s into Go-quoted strings separated by spaces.
func quotedFields(s string) []string {
	var fields []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		end := len(s)
		if s[0] == '"' {
			for i := 1; i < len(s); i++ {
				if s[i] == '\\' {
					i++
					continue
				}
				if s[i] == '"' {
					end = i + 1
					break
				}
			}
		} else if i := strings.IndexByte(s, ' '); i >= 0 {
			end = i
		}
		fields = append(fields, s[:end])
		s = s[end:]
	}
	return fields
}
