package monitor

import "github.com/pinwatchd/pinwatchd"

// ParsePinHeader parses the value of a Public-Key-Pins or
// Public-Key-Pins-Report-Only header by the rules of SPEC §4.
func ParsePinHeader(raw string) *pinwatchd.PinHeader {
	panic("not implemented")
}

// ParseHSTS parses the value of a Strict-Transport-Security header.
func ParseHSTS(raw string) *pinwatchd.HSTSHeader {
	panic("not implemented")
}
