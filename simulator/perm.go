package simulator

// feistel is a keyed pseudo-random permutation of [0, n): a 4-round
// balanced Feistel network on the next even power of two, with cycle
// walking back into range. Both directions cost O(1), which is what lets
// the model rank the whole vocabulary per context without touching every
// token.
type feistel struct {
	n    int
	half uint
	mask uint64
}

func newFeistel(n int) feistel {
	bits := uint(2)
	for 1<<bits < n {
		bits += 2
	}
	return feistel{n: n, half: bits / 2, mask: 1<<(bits/2) - 1}
}

func (f feistel) round(key uint64, i int, v uint64) uint64 {
	return mix(key^uint64(i)*0xD6E8FEB86659FD93^v) & f.mask
}

// fwd maps x in [0, n) to its image in [0, n).
func (f feistel) fwd(key uint64, x int) int {
	v := uint64(x)
	for {
		l, r := v>>f.half, v&f.mask
		for i := 0; i < 4; i++ {
			l, r = r, l^f.round(key, i, r)
		}
		v = l<<f.half | r
		if v < uint64(f.n) {
			return int(v)
		}
	}
}

// inv is the inverse of fwd.
func (f feistel) inv(key uint64, y int) int {
	v := uint64(y)
	for {
		l, r := v>>f.half, v&f.mask
		for i := 3; i >= 0; i-- {
			l, r = r^f.round(key, i, l), l
		}
		v = l<<f.half | r
		if v < uint64(f.n) {
			return int(v)
		}
	}
}
