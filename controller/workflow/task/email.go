package task

import (
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// The email provider: one mail over SMTP, within EmailTimeout.
const EmailTimeout = 30 * time.Second

func (r *runner) sendEmail(ctx context.Context, a *action) (map[string]any, error) {
	var p struct {
		From struct {
			Address  string `json:"address"`
			Alias    string `json:"alias"`
			Password string `json:"password"`
			Host     string `json:"host"`
			Port     int    `json:"port"`
		} `json:"from"`
		To      []string `json:"to"`
		Content struct {
			Subject string `json:"subject"`
			Body    string `json:"body"`
		} `json:"content"`
	}
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	r.secret(p.From.Password)
	if len(p.To) == 0 {
		return nil, permanentf("InvalidAction", "an email needs at least one address in to")
	}
	for _, addr := range append([]string{p.From.Address}, p.To...) {
		if _, err := mail.ParseAddress(addr); err != nil || strings.ContainsAny(addr, "\r\n") {
			return nil, permanentf("InvalidAction", "%q is not an email address", addr)
		}
	}
	if err := r.smtpSend(ctx, p.From.Host, p.From.Port, p.From.Address, p.From.Alias, p.From.Password, p.To, p.Content.Subject, p.Content.Body); err != nil {
		return nil, permanentf("EmailFailed", "send email through %s:%d: %v", p.From.Host, p.From.Port, err)
	}
	return nil, nil
}

func (r *runner) smtpSend(ctx context.Context, host string, port int, from, alias, password string, to []string, subject, body string) error {
	ctx, cancel := context.WithTimeout(ctx, EmailTimeout)
	defer cancel()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if ok, _ := c.Extension("AUTH"); ok && password != "" {
		// PlainAuth refuses to send the password in clear text to
		// anything but a loopback server.
		if err := c.Auth(smtp.PlainAuth("", from, password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, t := range to {
		if err := c.Rcpt(t); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	sender := (&mail.Address{Name: alias, Address: from}).String()
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n%s\r\n",
		sender, strings.Join(to, ", "), mime.QEncoding.Encode("utf-8", subject), body)
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
