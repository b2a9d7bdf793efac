package simulator

// mix is the splitmix64 finaliser: a fast, well-distributed 64-bit hash
// step. Everything random in the simulator (model, sampling, jitter, faults)
// is mix of (seed, something), so identical inputs give identical outputs
// however requests interleave.
func mix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// hashString folds a string into a key (FNV-1a then mix).
func hashString(seed uint64, s string) uint64 {
	h := uint64(0xCBF29CE484222325) ^ seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001B3
	}
	return mix(h)
}

// unit maps a hash to a float64 uniform in [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// Salts keep the independent uses of one hash input apart.
const (
	saltProfile uint64 = (0x1F3D5B79A2C4E6F8 + iota*0x9E3779B97F4A7C15) % (1 << 64)
	saltClass
	saltEOS
	saltHints
	saltSample
	saltSeed
	saltID
	saltTTFT
	saltITL
	saltFault
	saltCut
	saltSlow
	saltCutAt
	saltModel
	saltNoise
	saltChoice
)
