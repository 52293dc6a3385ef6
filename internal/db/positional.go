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
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				return q, false
			}
			b.WriteString(q[i : i+j+2])
			i += j + 2
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return q, false
			}
			b.WriteString(q[i : i+j+4])
			i += j + 4
		case c == '?':
			return q, false
		case c == '$':
			j := i + 1
			n := 0
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
			b.WriteByte(c)
			i++
		}
	}
	if next == 1 {
		return q, false
	}
	return b.String(), true
}

// sqliteSQL is q as SQLite is given it: positional when it can be.
func sqliteSQL(q string) string {
	p, _ := positional(q)
	return p
}
