package storekit

// HexRuns calls yield with every maximal run of exactly 64 lower-case hex
// digits in v: the SHA-256 digests of kept files a stored record may
// mention (MediaRefs of both stores).
func HexRuns(v []byte, yield func(string)) {
	run := 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] >= 'a' && v[i] <= 'f') {
			run++
			continue
		}
		if run == 64 {
			yield(string(v[i-64 : i]))
		}
		run = 0
	}
}
