package monitor

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/pinwatchd/pinwatchd"
)

// Bounds of a served chain (SPEC §9, §16): a longer or larger one is a
// handshake_failed observation, neither stored nor verified.
const (
	maxChainCerts = 20
	maxChainBytes = 256 << 10
)

// chainTooLarge returns the handshake_failed error of a served chain past
// maxChainCerts certificates or maxChainBytes of DER, else nil.
func (s *session) chainTooLarge(peer []*x509.Certificate) *pinwatchd.ProbeError {
	if len(peer) > maxChainCerts {
		return s.chainError(fmt.Sprintf("chain of %d certificates exceeds %d", len(peer), maxChainCerts))
	}
	size := 0
	for _, c := range peer {
		size += len(c.Raw)
	}
	if size > maxChainBytes {
		return s.chainError(fmt.Sprintf("chain of %d bytes exceeds 256 KiB", size))
	}
	return nil
}

func (s *session) chainError(what string) *pinwatchd.ProbeError {
	return &pinwatchd.ProbeError{Kind: pinwatchd.KindHandshakeFailed,
		Message: fmt.Sprintf("TLS handshake with %s: %s", s.addr, what)}
}

// oversizedCertificates recognises crypto/tls's refusal of a handshake
// message above its limit, which for the server's certificates is 256 KiB
// (maxHandshakeCertificateMsg), and returns the message's length in bytes.
func oversizedCertificates(err error) (int, bool) {
	const text = "tls: handshake message of length "
	msg := err.Error()
	i := strings.Index(msg, text)
	if i < 0 {
		return 0, false
	}
	var n, limit int
	if _, serr := fmt.Sscanf(msg[i+len(text):], "%d bytes exceeds maximum of %d bytes", &n, &limit); serr != nil || limit < maxChainBytes {
		return 0, false
	}
	return n, true
}
