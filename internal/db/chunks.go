package db

// Chunks cuts n into runs whose sizes are powers of two no larger than
// max and calls fn with each run's bounds [lo, hi). Multi-row statements
// built per run then come in a handful of SQL texts, each prepared once
// and cached, however many rows a batch has.
func Chunks(n, max int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		size := max
		for size > n-lo {
			size /= 2
		}
		if err := fn(lo, lo+size); err != nil {
			return err
		}
		lo += size
	}
	return nil
}
