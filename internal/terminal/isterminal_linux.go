package terminal

import (
	"os"
	"syscall"
	"unsafe"
)

// IsTerminal reports whether f is a terminal: a device that answers the
// terminal's ioctl, not merely a character device (/dev/null is one).
func IsTerminal(f *os.File) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
