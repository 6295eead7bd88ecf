// Package textreport renders pinwatchd's reports for people: the probe and
// check reports, the alerts, history and certs tables. Every text that
// came from a server or a certificate goes through terminal.Escape, so no
// control character reaches a terminal raw; JSON output is not its concern.
package textreport
