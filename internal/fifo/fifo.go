// Package fifo is a bounded cache that forgets its oldest entries first.
//
// First in, first out suits caches whose keys are content hashes: an
// entry never goes stale, only out of use, and a lookup costs no
// bookkeeping (unlike LRU). It is not safe for concurrent use; callers
// that share a cache hold their own lock.
package fifo

import "iter"

// Cache maps keys to values, keeping at most Size entries. The zero value
// keeps nothing.
type Cache[K comparable, V any] struct {
	size int
	m    map[K]V
	// ring holds the keys in the order they were put; once it is full,
	// next is the oldest, the one the next Put replaces.
	ring []K
	next int
}

// New returns a cache of at most size entries; size <= 0 keeps nothing.
// Its memory grows with its entries, not with size.
func New[K comparable, V any](size int) Cache[K, V] {
	return Cache[K, V]{size: max(size, 0)}
}

// Size is the most entries c keeps.
func (c *Cache[K, V]) Size() int { return c.size }

// Len is the number of entries in c.
func (c *Cache[K, V]) Len() int { return len(c.m) }

// Get returns the value stored for k.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	v, ok := c.m[k]
	return v, ok
}

// Put stores v for k unless k is present already (the first value put
// stays: keys name their content). When c is full the oldest entry goes.
func (c *Cache[K, V]) Put(k K, v V) {
	if c.size == 0 {
		return
	}
	if _, ok := c.m[k]; ok {
		return
	}
	if c.m == nil {
		c.m = map[K]V{}
	}
	if len(c.ring) < c.size {
		c.ring = append(c.ring, k)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % c.size
	}
	c.m[k] = v
}

// Keys yields the keys of c, oldest first.
func (c *Cache[K, V]) Keys() iter.Seq[K] {
	return func(yield func(K) bool) {
		n := len(c.ring)
		for i := range n {
			if !yield(c.ring[(c.next+i)%n]) {
				return
			}
		}
	}
}
