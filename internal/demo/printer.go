package demo

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pinwatchd/pinwatchd"
	"github.com/pinwatchd/pinwatchd/notify"
)

// printer is the demo's notifier: one readable line per notification, with
// the seconds since the tour started.
type printer struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
}

// Notify prints every notification of b and never fails.
func (p *printer) Notify(_ context.Context, b notify.Batch) (notify.Receipt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range b.Notes {
		fmt.Fprintf(p.w, "  +%4.1fs  %s\n", time.Since(p.start).Seconds(), line(&b.Notes[i]))
	}
	return notify.Receipt{}, nil
}

// line renders one notification.
func line(n *pinwatchd.Notification) string {
	if e := n.Event; e != nil {
		change := fmt.Sprintf("leaf key %s -> %s", e.OldLeafPin, e.NewLeafPin)
		if e.OldLeafPin == e.NewLeafPin {
			change = "new certificate, same leaf key " + e.NewLeafPin
		}
		return fmt.Sprintf("%-9s %-8s %-18s %s at %s: %s", "event", e.Target, pinwatchd.KindChainChanged, e.Class, e.Address, change)
	}
	a := n.Alert
	if a == nil {
		return string(n.Type)
	}
	if n.Type == pinwatchd.ChangeResolved {
		return fmt.Sprintf("%-9s %-8s %-18s %-8s  %s", "resolved", a.Target, a.Kind, "", a.ResolveReason)
	}
	return fmt.Sprintf("%-9s %-8s %-18s %-8s  %s", n.Type, a.Target, a.Kind, a.Severity.Label(), a.Message)
}

// lockedWriter serialises the writes of several goroutines to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
