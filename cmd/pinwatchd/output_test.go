package main

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// writeCounter records each Write it is given.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// A text report of thousands of lines reaches standard output whole, in
// as many writes as its size needs rather than a few per line (a year of
// history is 26,000 lines).
func TestWriteTextBuffers(t *testing.T) {
	var want bytes.Buffer
	report := func(w io.Writer) {
		for i := range 3000 {
			fmt.Fprintf(w, "%04d  target-%d  ", i, i)
			fmt.Fprintln(w, "chain_changed")
		}
	}
	report(&want)
	var got writeCounter
	writeText(&got, report)
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("wrote %d bytes, want the report's %d", got.Len(), want.Len())
	}
	if limit := want.Len()/(64<<10) + 1; got.writes > limit {
		t.Errorf("%d writes for %d bytes, want at most %d", got.writes, want.Len(), limit)
	}
}
