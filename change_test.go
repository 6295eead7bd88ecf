package pinwatchd

import "testing"

func TestClassifyChange(t *testing.T) {
	cert := func(sha string, pin byte) Cert { return Cert{SHA256: sha, Pin: Pin{pin}} }
	obs := func(anchor string, chain ...Cert) *Observation {
		o := &Observation{ServedChain: chain}
		if anchor != "" {
			o.VerifiedChain = append(append([]Cert{}, chain...), cert(anchor, 9))
		}
		return o
	}
	leafA, leafA2, leafB := cert("a", 1), cert("a2", 1), cert("b", 2)
	inter, inter2 := cert("i", 3), cert("i2", 4)
	tests := []struct {
		name      string
		prev, cur *Observation
		want      ChangeClass
		changed   bool
	}{
		{"same chain", obs("r", leafA, inter), obs("r", leafA, inter), "", false},
		{"same chain, verification lost", obs("r", leafA, inter), obs("", leafA, inter), "", false},
		{"new key", obs("r", leafA, inter), obs("r", leafB, inter), ChangeKeyRotated, true},
		{"new key and new intermediate", obs("r", leafA, inter), obs("r", leafB, inter2), ChangeKeyRotated, true},
		{"same key, new intermediate", obs("r", leafA, inter), obs("r", leafA2, inter2), ChangeIssuerChanged, true},
		{"same key, new anchor", obs("r", leafA, inter), obs("r2", leafA2, inter), ChangeIssuerChanged, true},
		{"same key, intermediate dropped", obs("r", leafA, inter), obs("r", leafA2), ChangeIssuerChanged, true},
		{"renewed", obs("r", leafA, inter), obs("r", leafA2, inter), ChangeRenewed, true},
		{"no previous chain", obs(""), obs("r", leafA), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := ClassifyChange(tt.prev, tt.cur)
			if got != tt.want || changed != tt.changed {
				t.Errorf("ClassifyChange = %q, %v; want %q, %v", got, changed, tt.want, tt.changed)
			}
		})
	}
}
