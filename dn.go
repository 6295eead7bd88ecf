package pinwatchd

import (
	"crypto/x509/pkix"
	"strings"
)

// NameString returns n.String(), the form reports and storage record a
// certificate's subject and issuer in. It builds the usual name (only the
// attributes pkix.Name parses into its fields, printable ASCII values)
// directly: n.String() goes through an RDNSequence, an OID's string and
// fmt for every attribute, and formatting a leaf's subject that way was
// the costliest part of its recorded form. Any other name is left to
// n.String().
func NameString(n *pkix.Name) string {
	if !plainName(n) {
		return n.String()
	}
	// n.String() prints the RDNs of n.ToRDNSequence() last to first; each
	// multi-valued field is one RDN of its values joined by '+'.
	var b strings.Builder
	b.Grow(64)
	appendRDN(&b, "SERIALNUMBER", n.SerialNumber)
	appendRDN(&b, "CN", n.CommonName)
	appendRDN(&b, "OU", n.OrganizationalUnit...)
	appendRDN(&b, "O", n.Organization...)
	appendRDN(&b, "POSTALCODE", n.PostalCode...)
	appendRDN(&b, "STREET", n.StreetAddress...)
	appendRDN(&b, "L", n.Locality...)
	appendRDN(&b, "ST", n.Province...)
	appendRDN(&b, "C", n.Country...)
	return b.String()
}

// plainName reports whether NameString may format n itself: no extra
// names, every parsed attribute one of the fields, every value printable
// ASCII.
func plainName(n *pkix.Name) bool {
	if n.ExtraNames != nil {
		return false
	}
	for _, atv := range n.Names {
		t := atv.Type
		if len(t) != 4 || t[0] != 2 || t[1] != 5 || t[2] != 4 {
			return false
		}
		switch t[3] {
		case 3, 5, 6, 7, 8, 9, 10, 11, 17:
		default:
			return false
		}
	}
	if !printableASCII(n.CommonName) || !printableASCII(n.SerialNumber) {
		return false
	}
	for _, vs := range [...][]string{n.Country, n.Organization, n.OrganizationalUnit, n.Locality,
		n.Province, n.StreetAddress, n.PostalCode} {
		for _, v := range vs {
			if !printableASCII(v) {
				return false
			}
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// appendRDN writes the RDN of the attribute typ with values, preceded by
// a ',' unless it is the first; no values, no RDN. An empty single value
// (an unset CN or serial number) is no RDN either, as in ToRDNSequence.
func appendRDN(b *strings.Builder, typ string, values ...string) {
	if len(values) == 0 || len(values) == 1 && values[0] == "" && (typ == "CN" || typ == "SERIALNUMBER") {
		return
	}
	if b.Len() > 0 {
		b.WriteByte(',')
	}
	for i, v := range values {
		if i > 0 {
			b.WriteByte('+')
		}
		b.WriteString(typ)
		b.WriteByte('=')
		writeEscaped(b, v)
	}
}

// writeEscaped writes v escaped as RDNSequence.String escapes it.
func writeEscaped(b *strings.Builder, v string) {
	for k := 0; k < len(v); k++ {
		c := v[k]
		escape := false
		switch c {
		case ',', '+', '"', '\\', '<', '>', ';':
			escape = true
		case ' ':
			escape = k == 0 || k == len(v)-1
		case '#':
			escape = k == 0
		}
		if escape {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
}
