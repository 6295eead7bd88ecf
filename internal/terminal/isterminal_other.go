//go:build !linux

package terminal

import "os"

// IsTerminal reports whether f is a character device, the closest a
// portable check comes to a terminal.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
