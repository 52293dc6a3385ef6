package db

import "strconv"

// Args collects the positional arguments of a statement built at run time
// (filters, scope conditions): Add appends a value and returns its
// placeholder, "$1", "$2", …, for both dialects.
type Args struct {
	List []any
}

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.List = append(a.List, v)
	return "$" + strconv.Itoa(len(a.List))
}
