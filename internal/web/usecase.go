package web

import (
	"context"
	"net/http"

	"tongxin/internal/auth"
)

// Most JSON handlers are the same four steps: take the caller, read a JSON
// body, call one service method with both, answer its result. These
// adapters are those steps once, so that a module's api.go says only which
// method answers which route.

// Items is a list answer: {"items":[…]}, never null.
type Items[T any] struct {
	Items []T `json:"items"`
}

// WriteItems answers 200 with items.
func WriteItems[T any](w http.ResponseWriter, v []T) error {
	if v == nil {
		v = []T{}
	}
	return JSON(w, http.StatusOK, Items[T]{Items: v})
}

// Decode answers a request whose JSON body is In with status and what uc
// returns for the authenticated caller.
func Decode[In, Out any](w http.ResponseWriter, r *http.Request, status int,
	uc func(ctx context.Context, p *auth.Principal, in In) (Out, error)) error {
	p, err := Principal(r)
	if err != nil {
		return err
	}
	var in In
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	out, err := uc(r.Context(), p, in)
	if err != nil {
		return err
	}
	return JSON(w, status, out)
}

// Answer answers 200 with what uc returns for the authenticated caller
// (a request without a body: one object by its path, an action named by
// the path alone).
func Answer[T any](w http.ResponseWriter, r *http.Request, uc func(ctx context.Context, p *auth.Principal) (T, error)) error {
	p, err := Principal(r)
	if err != nil {
		return err
	}
	v, err := uc(r.Context(), p)
	if err != nil {
		return err
	}
	return JSON(w, http.StatusOK, v)
}

// List answers {"items":[…]} with what uc returns for the caller.
func List[T any](w http.ResponseWriter, r *http.Request, uc func(ctx context.Context, p *auth.Principal) ([]T, error)) error {
	p, err := Principal(r)
	if err != nil {
		return err
	}
	v, err := uc(r.Context(), p)
	if err != nil {
		return err
	}
	return WriteItems(w, v)
}

// AnswerID answers 200 with what uc returns for the caller and the path's
// {id}; an id that is not a positive integer answers notFound, as an id
// that does not exist would.
func AnswerID[T any](w http.ResponseWriter, r *http.Request, notFound error,
	uc func(ctx context.Context, p *auth.Principal, id int64) (T, error)) error {
	p, id, err := principalID(r, notFound)
	if err != nil {
		return err
	}
	v, err := uc(r.Context(), p, id)
	if err != nil {
		return err
	}
	return JSON(w, http.StatusOK, v)
}

// DecodeID answers a request on the path's {id} whose JSON body is In with
// status and what uc returns (an action on one object: review, revoke,
// assign).
func DecodeID[In, Out any](w http.ResponseWriter, r *http.Request, status int, notFound error,
	uc func(ctx context.Context, p *auth.Principal, id int64, in In) (Out, error)) error {
	p, id, err := principalID(r, notFound)
	if err != nil {
		return err
	}
	var in In
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	out, err := uc(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	return JSON(w, status, out)
}

// NoContent answers 204 once uc, run for the caller, has succeeded (a
// deletion, an acknowledgement).
func NoContent(w http.ResponseWriter, r *http.Request, uc func(ctx context.Context, p *auth.Principal) error) error {
	p, err := Principal(r)
	if err != nil {
		return err
	}
	if err := uc(r.Context(), p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// NoContentID is NoContent on the path's {id}.
func NoContentID(w http.ResponseWriter, r *http.Request, notFound error,
	uc func(ctx context.Context, p *auth.Principal, id int64) error) error {
	p, id, err := principalID(r, notFound)
	if err != nil {
		return err
	}
	if err := uc(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// principalID is the caller, then the path's {id}: an anonymous request
// is refused as such whatever its path.
func principalID(r *http.Request, notFound error) (*auth.Principal, int64, error) {
	p, err := Principal(r)
	if err != nil {
		return nil, 0, err
	}
	id, err := PathID(r, "id", notFound)
	return p, id, err
}
