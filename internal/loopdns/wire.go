package loopdns

import (
	"encoding/binary"
	"errors"
	"strings"
)

// errShortQuery is a query too short to answer.
var errShortQuery = errors.New("short DNS query")

// parseQuestion returns the end of the first question of query q (after
// QTYPE and QCLASS), its name and its type.
func parseQuestion(q []byte) (end int, name string, qtype uint16, err error) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) < 1 {
		return 0, "", 0, errShortQuery
	}
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return 0, "", 0, errShortQuery
		}
		n := int(q[i])
		if n == 0 {
			i++
			break
		}
		if n&0xc0 != 0 || i+1+n > len(q) {
			return 0, "", 0, errShortQuery // queries carry no compression
		}
		labels = append(labels, string(q[i+1:i+1+n]))
		i += 1 + n
	}
	if i+4 > len(q) {
		return 0, "", 0, errShortQuery
	}
	return i + 4, CanonicalName(strings.Join(labels, ".")), binary.BigEndian.Uint16(q[i:]), nil
}

// udpSize returns the largest UDP answer the client of query q takes: the
// size its EDNS OPT record offers (RFC 6891 §6.2.3), at most maxUDP, else
// 512 bytes. end is the end of the question.
func udpSize(q []byte, end int) int {
	const typeOPT = 41
	if binary.BigEndian.Uint16(q[10:]) == 0 || len(q) < end+5 || q[end] != 0 || binary.BigEndian.Uint16(q[end+1:]) != typeOPT {
		return 512
	}
	return min(max(int(binary.BigEndian.Uint16(q[end+3:])), 512), maxUDP)
}

// rr is the type and data of one answer record.
type rr struct {
	typ  uint16
	data []byte
}

// answer builds the response to query q received over network, or nil for
// no answer (silence, or a query it cannot parse).
func (s *Server) answer(q []byte, network string) []byte {
	end, name, qtype, err := parseQuestion(q)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	s.queries = append(s.queries, Query{Net: network, Name: name, Type: qtype})
	mode, truncate := s.mode, s.truncate
	var z zone
	zp, known := s.names[name]
	if known {
		z = *zp
	}
	s.mu.Unlock()

	var rcode byte
	var records []rr
	switch {
	case mode == Silent:
		return nil
	case mode == ServFail || (mode == Answer && z.bogus):
		rcode = rcodeServ
	case mode == NXDomain || (mode == Answer && !known):
		rcode = rcodeNX
	case mode == Answer:
		records = z.records(qtype)
	}
	ad := mode == Answer && known && z.signed
	resp := encode(q[:end], qtype, rcode, ad, false, records)
	if network == "udp" && rcode == rcodeOK && (truncate || len(resp) > udpSize(q, end)) {
		resp = encode(q[:end], qtype, rcode, ad, true, nil)
	}
	return resp
}

// records returns the answer records of type qtype.
func (z *zone) records(qtype uint16) []rr {
	var out []rr
	switch qtype {
	case TypeA, TypeAAAA:
		for _, ip := range z.addrs {
			if (qtype == TypeA && ip.Is4()) || (qtype == TypeAAAA && ip.Is6() && !ip.Is4In6()) {
				out = append(out, rr{qtype, ip.AsSlice()})
			}
		}
	case TypeMX:
		for _, m := range z.mx {
			out = append(out, rr{qtype, appendName(binary.BigEndian.AppendUint16(nil, m.Preference), m.Host)})
		}
	case TypeTLSA:
		for _, t := range z.tlsa {
			out = append(out, rr{qtype, append([]byte{t.Usage, t.Selector, t.MatchingType}, t.Data...)})
		}
	}
	return out
}

// appendName appends name in wire form, uncompressed; "." is the root.
func appendName(b []byte, name string) []byte {
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l == "" || len(l) > 63 {
			continue
		}
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// encode writes a response to the question q (the query's header and first
// question) with records as its answer section.
func encode(q []byte, qtype uint16, rcode byte, ad, tc bool, records []rr) []byte {
	r := append([]byte(nil), q...)
	r[2] = 0x80 | q[2]&0x79 // response; opcode and recursion desired as asked
	if tc {
		r[2] |= 0x02
	}
	r[3] = 0x80 | rcode // recursion available
	if ad {
		r[3] |= 0x20
	}
	binary.BigEndian.PutUint16(r[4:], 1) // the one question
	binary.BigEndian.PutUint16(r[6:], uint16(len(records)))
	binary.BigEndian.PutUint32(r[8:], 0) // no authority or additional records
	for _, rec := range records {
		r = append(r, 0xc0, 0x0c) // the name: a pointer to the question's
		r = binary.BigEndian.AppendUint16(r, qtype)
		r = binary.BigEndian.AppendUint16(r, 1) // class IN
		r = binary.BigEndian.AppendUint32(r, 1) // TTL, seconds
		r = binary.BigEndian.AppendUint16(r, uint16(len(rec.data)))
		r = append(r, rec.data...)
	}
	return r
}
