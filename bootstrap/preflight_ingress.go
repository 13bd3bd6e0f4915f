package bootstrap

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// checkIngressPorts refuses ports the ingress addon's Traefik is to take
// on the node (hostPort: 80 and 443 by default) while a host process
// listens there: the pod's port mapping would take that process's
// traffic without a word. The message names the process and how to give
// the addon other ports.
func checkIngressPorts(h Host, ports []int) error {
	var busy []string
	for _, port := range ports {
		if err := h.PortFree(port); err != nil {
			holder := PortHolder(h.ProcRoot, port)
			if holder == "" {
				holder = "another process"
			}
			busy = append(busy, fmt.Sprintf("port %d is taken by %s", port, holder))
		}
	}
	if len(busy) == 0 {
		return nil
	}
	return fmt.Errorf("%s; the ingress addon (Traefik) serves the node's ports %s: stop what listens there, "+
		"or install without it (velad install --disable-addon ingress) and enable it on other ports "+
		"(velad addon enable ingress --set ports.web.hostPort=8080 --set ports.websecure.hostPort=8443)",
		strings.Join(busy, "; "), joinInts(ports, " and "))
}

func joinInts(ns []int, sep string) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, sep)
}

// tcpListen is the state of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// PortHolder names the process listening on TCP port ("nginx (pid
// 812)"), from /proc: the listening socket's inode in net/tcp and
// net/tcp6, then the process holding that socket. "" when none is found
// (or the socket belongs to another network namespace).
func PortHolder(procRoot string, port int) string {
	inodes := map[string]bool{}
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		for _, ino := range listeningInodes(filepath.Join(procRoot, f), port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	pids, _ := os.ReadDir(procRoot)
	for _, p := range pids {
		pid := p.Name()
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join(procRoot, pid, "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(procRoot, pid, "fd", fd.Name()))
			if err != nil {
				continue
			}
			ino, ok := strings.CutPrefix(link, "socket:[")
			if !ok || !inodes[strings.TrimSuffix(ino, "]")] {
				continue
			}
			comm, _ := os.ReadFile(filepath.Join(procRoot, pid, "comm"))
			name := strings.TrimSpace(string(comm))
			if name == "" {
				name = "a process"
			}
			return fmt.Sprintf("%s (pid %s)", name, pid)
		}
	}
	return ""
}

// listeningInodes reads the inodes of sockets listening on port from a
// /proc/net/tcp-format file.
func listeningInodes(file string, port int) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != tcpListen || !strings.HasSuffix(fields[1], want) {
			continue
		}
		out = append(out, fields[9])
	}
	return out
}
