// Command bareclient is the baseline of SPEC §11's CPU budget: a bare
// crypto/tls client that probes every target of a list once (handshake,
// SPKI hashes of the served certificates, one HEAD and its response
// headers) and does nothing else.
//
// Usage: bareclient [-concurrency N] [-timeout D] [-rounds] TARGET-LIST
//
// The list holds one "address host" per line. The exit status is 1 when a
// target failed, 2 on a usage error.
//
// With -rounds the client stays up and probes the whole list once for every
// line it reads on standard input, answering "done" (or "failed: …") on
// standard output after each round: the baseline of the daemon's steady
// state, a long-lived process whose CPU is read between rounds.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/pinwatchd/pinwatchd/internal/bench/bare"
)

func main() {
	concurrency := flag.Int("concurrency", 16, "probes in flight")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline of one probe")
	rounds := flag.Bool("rounds", false, "probe the list once per line read on standard input, answering \"done\" after each round")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: bareclient [-concurrency N] [-timeout D] TARGET-LIST")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bareclient: %v\n", err)
		os.Exit(2)
	}
	targets, err := bare.ParseTargetList(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bareclient: %s: %v\n", flag.Arg(0), err)
		os.Exit(2)
	}
	if *rounds {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			if failed, first := bare.ProbeAll(context.Background(), targets, *concurrency, *timeout); failed > 0 {
				fmt.Printf("failed: %d of %d targets; first: %v\n", failed, len(targets), first)
				continue
			}
			fmt.Println("done")
		}
		return
	}
	failed, first := bare.ProbeAll(context.Background(), targets, *concurrency, *timeout)
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "bareclient: %d of %d targets failed; first: %v\n", failed, len(targets), first)
		os.Exit(1)
	}
	fmt.Printf("%d targets probed\n", len(targets))
}
