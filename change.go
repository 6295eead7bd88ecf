package pinwatchd

// ClassifyChange compares the chains of two successful observations of one
// address. It reports whether the served chain changed and, if so, its class,
// first match wins: the leaf key changed (key_rotated); the leaf key is the
// same but another certificate of the served chain or the verified anchor
// changed (issuer_changed); only the leaf certificate changed (renewed).
// A chain that is served unchanged is no change, even if its verification
// changed.
func ClassifyChange(prev, cur *Observation) (ChangeClass, bool) {
	if len(prev.ServedChain) == 0 || len(cur.ServedChain) == 0 {
		return "", false
	}
	if sameCerts(prev.ServedChain, cur.ServedChain) {
		return "", false
	}
	if prev.ServedChain[0].Pin != cur.ServedChain[0].Pin {
		return ChangeKeyRotated, true
	}
	if !sameCerts(prev.ServedChain[1:], cur.ServedChain[1:]) || anchor(prev) != anchor(cur) {
		return ChangeIssuerChanged, true
	}
	return ChangeRenewed, true
}

func sameCerts(a, b []Cert) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].SHA256 != b[i].SHA256 {
			return false
		}
	}
	return true
}

// anchor returns the SHA-256 of the last certificate of the verified chain,
// empty when the chain did not verify.
func anchor(o *Observation) string {
	if len(o.VerifiedChain) == 0 {
		return ""
	}
	return o.VerifiedChain[len(o.VerifiedChain)-1].SHA256
}
