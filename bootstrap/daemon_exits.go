package bootstrap

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// serverExit is one exit of velad server that the daemon recorded.
type serverExit struct {
	At   time.Time
	Code string
	// Reason is the last "velad: …" line the server printed before it
	// exited (its fatal error), "" when it printed none.
	Reason string
}

// exitLine is the supervisor's record of an exit (superviseScript).
var exitLine = regexp.MustCompile(`^velad supervise: (?:(\S+): )?velad (?:server|agent) exited \((\d+)\)`)

// exitsInLog reads velad server's exits from the supervisor's log, oldest
// first. Lines without a time (older velad) get the zero time.
func exitsInLog(log []byte) []serverExit {
	var exits []serverExit
	reason := ""
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if m := exitLine.FindStringSubmatch(line); m != nil {
			at, _ := time.Parse(time.RFC3339, m[1])
			exits = append(exits, serverExit{At: at, Code: m[2], Reason: reason})
			reason = ""
			continue
		}
		if strings.HasPrefix(line, "velad: ") {
			reason = strings.TrimPrefix(line, "velad: ")
		}
	}
	return exits
}

// Crash-loop rules: velad server crash-loops when it exited at least
// crashLoopExits times within crashWindow and has not stayed up for
// recoveredAfter since its last exit (the supervisor's backoff is at
// most 30 s, so a server up that long after its last exit is running).
const (
	crashWindow    = 5 * time.Minute
	crashLoopExits = 2
	recoveredAfter = time.Minute
)

// crashState tells from the recorded exits whether velad server
// crash-loops now, and a one-line account of its recent exits ("" when
// it did not exit within crashWindow).
func crashState(exits []serverExit, now time.Time) (looping bool, detail string) {
	var recent []serverExit
	for _, e := range exits {
		if !e.At.IsZero() && now.Sub(e.At) <= crashWindow {
			recent = append(recent, e)
		}
	}
	if len(recent) == 0 {
		return false, ""
	}
	last := recent[len(recent)-1]
	reason := last.Reason
	if reason == "" {
		reason = "no error printed (killed?)"
	}
	times := "once"
	if len(recent) > 1 {
		times = fmt.Sprintf("%d times", len(recent))
	}
	detail = fmt.Sprintf("velad server exited %s in the last %s; last at %s (exit %s): %s",
		times, crashWindow, last.At.Local().Format(time.TimeOnly), last.Code, reason)
	looping = len(recent) >= crashLoopExits && now.Sub(last.At) < recoveredAfter
	return looping, detail
}

// logTail reads at most the last n bytes of a file ("" when it is absent).
func logTail(path string, n int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		if _, err := f.Seek(st.Size()-n, io.SeekStart); err != nil {
			return nil
		}
	}
	data, _ := io.ReadAll(f)
	return data
}
