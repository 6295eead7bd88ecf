package postgres

import "testing"

func TestLRUBounded(t *testing.T) {
	c := newLRU[int, int](100)
	for i := range 10_000 {
		c.put(i, i*2)
		if i > 7 {
			if v, ok := c.get(7); !ok || v != 14 {
				t.Fatalf("after %d puts: get(7) = %d, %v; want 14, true (used all the time)", i, v, ok)
			}
		}
		if c.len() > 100 {
			t.Fatalf("after %d puts the cache holds %d entries, more than its capacity 100", i+1, c.len())
		}
	}
	if _, ok := c.get(10); ok {
		t.Error("entry 10, unused for 9,990 puts, is still cached")
	}
	c.clear()
	if c.len() != 0 {
		t.Errorf("len after clear = %d", c.len())
	}
}
