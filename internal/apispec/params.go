package apispec

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// QueryParameters returns the names of the query parameters the
// description lists for each operation, keyed like the route table
// ("GET /api/v1/users"), sorted. The API refuses any other query
// parameter (internal/app wraps every /api/v1 route with
// web.StrictQuery), so the description is the one list of what an
// operation takes.
func QueryParameters() (map[string][]string, error) {
	return parsedQueryParameters()
}

// parsedQueryParameters reads the embedded document once.
var parsedQueryParameters = sync.OnceValues(func() (map[string][]string, error) { return queryParameters(document) })

// MustQueryParameters is QueryParameters for building the router: the
// document is embedded, so an error is a broken build (the tests of this
// package validate it), not a condition to run with. The map is shared:
// callers must not change it.
func MustQueryParameters() map[string][]string {
	m, err := QueryParameters()
	if err != nil {
		panic(err)
	}
	return m
}

// parameter is an OpenAPI parameter object or a reference to one.
type parameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

func queryParameters(doc []byte) (map[string][]string, error) {
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]parameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("apispec: %w", err)
	}
	resolve := func(p parameter) (parameter, error) {
		if p.Ref == "" {
			return p, nil
		}
		name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
		target, found := d.Components.Parameters[name]
		if !ok || !found {
			return p, fmt.Errorf("apispec: unresolved parameter %q", p.Ref)
		}
		return target, nil
	}
	out := map[string][]string{}
	for path, item := range d.Paths {
		var shared []parameter
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("apispec: %s parameters: %w", path, err)
			}
		}
		for method, raw := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
			default:
				continue
			}
			var op struct {
				Parameters []parameter `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("apispec: %s %s: %w", method, path, err)
			}
			names := []string{}
			for _, p := range append(slices.Clone(shared), op.Parameters...) {
				p, err := resolve(p)
				if err != nil {
					return nil, err
				}
				if p.In == "query" && !slices.Contains(names, p.Name) {
					names = append(names, p.Name)
				}
			}
			slices.Sort(names)
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out, nil
}
