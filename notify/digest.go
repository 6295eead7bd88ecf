package notify

import "time"

// holdUntil returns when the digest window of a channel's due
// notifications (oldest first) closes: window after the oldest was
// created. A creation time further ahead than the window (another clock)
// holds nothing. Zero without a window.
func holdUntil(g Batch, now time.Time, window time.Duration) time.Time {
	if window <= 0 || len(g.Notes) == 0 {
		return time.Time{}
	}
	created := g.Notes[0].CreatedAt
	if created.After(now.Add(window)) {
		return time.Time{}
	}
	return created.Add(window)
}

// batches splits the due notifications of one channel into messages. With
// digests, more than DigestThreshold of them go out as digests, as few as
// Slack's block limit allows (at most MaxDigest entries each, split
// evenly); otherwise, and without digests, each goes alone.
func batches(g Batch, digests bool) []Batch {
	ns := g.Notes
	if !digests || len(ns) <= DigestThreshold {
		out := make([]Batch, len(ns))
		for i := range ns {
			out[i] = Batch{Channel: g.Channel, Notes: ns[i : i+1]}
		}
		return out
	}
	parts := (len(ns) + MaxDigest - 1) / MaxDigest
	size := (len(ns) + parts - 1) / parts
	var out []Batch
	for k := 0; k < len(ns); k += size {
		out = append(out, Batch{Channel: g.Channel, Notes: ns[k:min(k+size, len(ns))]})
	}
	return out
}
