package task

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/workflow"
)

// smtpServer is a loopback SMTP server taking one mail.
type smtpServer struct {
	net.Listener
	mu         sync.Mutex
	auth, data string
	rcpt       []string
}

func newSMTPServer(t *testing.T) *smtpServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{Listener: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		rd := bufio.NewReader(conn)
		say := func(line string) { fmt.Fprintf(conn, "%s\r\n", line) }
		say("220 test ESMTP")
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.TrimSpace(line)
			s.mu.Lock()
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				say("250-test")
				say("250 AUTH PLAIN")
			case strings.HasPrefix(cmd, "AUTH PLAIN "):
				b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(cmd, "AUTH PLAIN "))
				s.auth = string(b)
				say("235 ok")
			case strings.HasPrefix(cmd, "MAIL"):
				say("250 ok")
			case strings.HasPrefix(cmd, "RCPT"):
				s.rcpt = append(s.rcpt, cmd)
				say("250 ok")
			case cmd == "DATA":
				say("354 go on")
				var b strings.Builder
				for {
					l, err := rd.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					b.WriteString(l)
				}
				s.data = b.String()
				say("250 queued")
			case cmd == "QUIT":
				say("221 bye")
				s.mu.Unlock()
				return
			default:
				say("502 no")
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// vela/email sends one mail; the password never shows in the outcome.
func TestSendEmail(t *testing.T) {
	srv := newSMTPServer(t)
	port := srv.Addr().(*net.TCPAddr).Port
	tmpl := fmt.Sprintf(`import "vela/email"
send: email.#SendEmail & {$params: {
	from: {address: "ci@example.com", alias: "CI", password: "s3cret-pw", host: "127.0.0.1", port: %d}
	to: ["dev@example.com", "ops@example.com"]
	content: {subject: "deployed", body: "<b>ok</b>"}
}}`, port)
	o, err := Run(context.Background(), Step{Name: "mail", Template: tmpl}, &Env{Context: workflow.NewContext("")})
	if err != nil || !o.Done {
		t.Fatalf("outcome %+v, %v", o, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !strings.Contains(srv.auth, "s3cret-pw") || len(srv.rcpt) != 2 || !strings.Contains(srv.data, "Subject: deployed") || !strings.Contains(srv.data, "<b>ok</b>") || !strings.Contains(srv.data, `From: "CI" <ci@example.com>`) {
		t.Errorf("server got auth %q rcpt %v data %q", srv.auth, srv.rcpt, srv.data)
	}

	// A server that is not there: the step fails, without the password.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	l.Close()
	tmpl = strings.Replace(tmpl, fmt.Sprint(port), fmt.Sprint(l.Addr().(*net.TCPAddr).Port), 1)
	o, err = Run(context.Background(), Step{Name: "mail", Template: tmpl}, &Env{Context: workflow.NewContext("")})
	if err != nil || !o.Failed || o.Reason != "EmailFailed" || strings.Contains(o.Message, "s3cret-pw") {
		t.Errorf("unreachable server: %+v, %v", o, err)
	}
}

// The built-in notification step sends its email.
func TestNotificationEmail(t *testing.T) {
	srv := newSMTPServer(t)
	data, err := os.ReadFile("../../builtins/workflowstep/notification.cue")
	if err != nil {
		t.Fatal(err)
	}
	defs, err := definition.ParseFile("notification.cue", data)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"email": map[string]any{
		"from":    map[string]any{"address": "ci@example.com", "password": map[string]any{"value": "pw-123"}, "host": "127.0.0.1", "port": srv.Addr().(*net.TCPAddr).Port},
		"to":      []string{"dev@example.com"},
		"content": map[string]any{"subject": "hello", "body": "deployed"},
	}}
	o, err := Run(context.Background(), Step{Name: "notify", Template: defs[0].Template(), Parameter: params,
		Context: map[string]any{"name": "app", "namespace": "default"}}, &Env{Context: workflow.NewContext("")})
	if err != nil || !o.Done {
		t.Fatalf("outcome %+v, %v", o, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !strings.Contains(srv.data, "Subject: hello") || len(srv.rcpt) != 1 {
		t.Errorf("server got rcpt %v data %q", srv.rcpt, srv.data)
	}
}

// op.#SendEmail, the legacy form, sends too.
func TestLegacySendEmail(t *testing.T) {
	srv := newSMTPServer(t)
	tmpl := fmt.Sprintf(`import "vela/op"
send: op.#SendEmail & {
	from: {address: "ci@example.com", password: "pw-9", host: "127.0.0.1", port: %d}
	to: ["dev@example.com"]
	content: {subject: "legacy", body: "ok"}
}`, srv.Addr().(*net.TCPAddr).Port)
	o, err := Run(context.Background(), Step{Name: "mail", Template: tmpl}, &Env{Context: workflow.NewContext("")})
	if err != nil || !o.Done {
		t.Fatalf("outcome %+v, %v", o, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !strings.Contains(srv.data, "Subject: legacy") {
		t.Errorf("server got %q", srv.data)
	}
}
