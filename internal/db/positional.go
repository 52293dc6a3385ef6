package db

import "strings"

// positional rewrites SQL whose parameters are $1, $2, … $n, each once and
// in that order (as Args writes them), to anonymous ? parameters, for
// SQLite: the driver asks SQLite each parameter's name to bind it, and
// SQLite finds a name by walking the list of the statement's named
// parameters, so that binding n named parameters costs n² — a bulk INSERT
// of a few hundred values spent more time binding than inserting.
// Anonymous parameters have no name and bind by position. SQL whose
// parameters are in another order, repeated, or already anonymous is
// answered unchanged (ok false), as is SQL without parameters. Quoted
// strings, quoted identifiers and comments are skipped.
func positional(q string) (string, bool) {
	if !strings.Contains(q, "$") {
		return q, false
	}
	var b strings.Builder
	b.Grow(len(q))
	next := 1
	for i := 0; i < len(q); {
		if j := skipped(q, i); j != i {
			if j < 0 {
				return q, false
			}
			b.WriteString(q[i:j])
			i = j
			continue
		}
		switch q[i] {
		case '?':
			return q, false
		case '$':
			j, n := i+1, 0
			for j < len(q) && q[j] >= '0' && q[j] <= '9' && n < 1e6 {
				n = n*10 + int(q[j]-'0')
				j++
			}
			if j == i+1 || n != next {
				return q, false
			}
			next++
			b.WriteByte('?')
			i = j
		default:
			b.WriteByte(q[i])
			i++
		}
	}
	if next == 1 {
		return q, false
	}
	return b.String(), true
}

// skipped answers where the quoted string, quoted identifier or comment
// starting at q[i] ends (i when none starts there, -1 when it does not
// end).
func skipped(q string, i int) int {
	switch c := q[i]; {
	case c == '\'' || c == '"' || c == '`':
		if j := strings.IndexByte(q[i+1:], c); j >= 0 {
			return i + j + 2
		}
		return -1
	case strings.HasPrefix(q[i:], "--"):
		if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(q)
	case strings.HasPrefix(q[i:], "/*"):
		if j := strings.Index(q[i+2:], "*/"); j >= 0 {
			return i + j + 4
		}
		return -1
	}
	return i
}

// sqliteSQL is q as SQLite is given it: positional when it can be.
func sqliteSQL(q string) string {
	p, _ := positional(q)
	return p
}
