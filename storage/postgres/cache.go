package postgres

// lru is a bounded map that keeps recently used entries: two generations,
// the current one taking hits and inserts, the old one dropped when the
// current fills half the capacity. It holds at most cap entries. It is not
// safe for concurrent use; DB guards it with its write mutex. (The SQLite
// backend has the same cache, unexported in package storage.)
type lru[K comparable, V any] struct {
	cap      int
	cur, old map[K]V
}

func newLRU[K comparable, V any](capacity int) *lru[K, V] {
	return &lru[K, V]{cap: max(capacity, 2), cur: map[K]V{}}
}

// get returns the value of k and whether it is cached.
func (c *lru[K, V]) get(k K) (V, bool) {
	if v, ok := c.cur[k]; ok {
		return v, true
	}
	if v, ok := c.old[k]; ok {
		c.put(k, v)
		return v, true
	}
	var zero V
	return zero, false
}

// put caches v under k.
func (c *lru[K, V]) put(k K, v V) {
	if len(c.cur) >= c.cap/2 {
		c.old, c.cur = c.cur, make(map[K]V, c.cap/2)
	}
	c.cur[k] = v
}

// delete forgets k.
func (c *lru[K, V]) delete(k K) {
	delete(c.cur, k)
	delete(c.old, k)
}

// len returns the number of cached entries.
func (c *lru[K, V]) len() int { return len(c.cur) + len(c.old) }

// clear forgets every entry.
func (c *lru[K, V]) clear() { c.cur, c.old = map[K]V{}, nil }
