// Command hello is velad's demo web server (image velad/hello): it answers
// every request with a greeting, the pod's name and the path asked for.
//
// Two small tools ride along for checks inside a cluster:
//
//	hello lookup NAME [WANT_IP]   resolve NAME; exit 1 unless it resolves (to WANT_IP)
//	hello write FILE TEXT         write TEXT to FILE, then serve as usual
//	hello get URL                 print URL's body; exit 1 unless it answers 200
//	hello upload URL MB           send MB megabytes to URL (a hello's /sink), print MB/s
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "lookup":
			os.Exit(lookup(os.Args[2:]))
		case "get":
			os.Exit(get(os.Args[2:]))
		case "upload":
			os.Exit(upload(os.Args[2:]))
		case "write":
			if len(os.Args) != 4 {
				log.Fatal("usage: hello write FILE TEXT")
			}
			if err := os.WriteFile(os.Args[2], []byte(os.Args[3]), 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
	serve()
}

func lookup(args []string) int {
	if len(args) == 0 {
		log.Print("usage: hello lookup NAME [WANT_IP]")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, args[0])
	if err != nil {
		log.Printf("lookup %s: %v", args[0], err)
		return 1
	}
	fmt.Println(strings.Join(addrs, " "))
	if len(args) > 1 && !slices.Contains(addrs, args[1]) {
		log.Printf("%s resolves to %v, not %s", args[0], addrs, args[1])
		return 1
	}
	return 0
}

func get(args []string) int {
	if len(args) != 1 {
		log.Print("usage: hello get URL")
		return 2
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(args[0])
	if err != nil {
		log.Print(err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(os.Stdout, resp.Body)
	if resp.StatusCode != http.StatusOK {
		log.Printf("%s: status %d", args[0], resp.StatusCode)
		return 1
	}
	return 0
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func upload(args []string) int {
	if len(args) != 2 {
		log.Print("usage: hello upload URL MB")
		return 2
	}
	mb, err := strconv.Atoi(args[1])
	if err != nil || mb <= 0 || mb > 100000 {
		log.Printf("MB %q is not a number of megabytes (1-100000)", args[1])
		return 2
	}
	n := int64(mb) << 20
	client := &http.Client{Timeout: 10 * time.Minute}
	begin := time.Now()
	resp, err := client.Post(args[0], "application/octet-stream", io.LimitReader(zeros{}, n))
	if err != nil {
		log.Print(err)
		return 1
	}
	defer resp.Body.Close()
	took := time.Since(begin)
	if resp.StatusCode != http.StatusOK {
		log.Printf("%s: status %d", args[0], resp.StatusCode)
		return 1
	}
	fmt.Printf("%d MB in %.2f s: %.1f MB/s\n", mb, took.Seconds(), float64(mb)/took.Seconds())
	return 0
}

func serve() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8000"
	}
	message := os.Getenv("MESSAGE")
	if message == "" {
		message = "Hello World"
	}
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/sink", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d\n", n)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s from %s (%s)\n", message, host, r.URL.Path)
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("hello listening on :%s", port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
