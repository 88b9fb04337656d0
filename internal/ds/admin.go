package ds

import (
	"context"
	"errors"
	"net/http"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// Admin is the DS's administration API: the registry operations of `open3ds enrol` as JSON over
// HTTP, behind a bearer token. It belongs on its own listener (loopback by default), apart from the
// protocol endpoint, since it answers to operators and not to scheme participants.
type Admin struct {
	store Store
	token string
}

// NewAdmin builds the API. An empty token refuses every call.
func NewAdmin(s Store, token string) *Admin {
	return &Admin{store: s, token: token}
}

// Handler routes the API under /v1/.
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h httpx.HandlerFunc) { mux.Handle(pattern, httpx.API(h)) }
	route("GET /v1/scheme", a.getScheme)
	route("PUT /v1/scheme", a.putScheme)
	route("GET /v1/acs", list(a.store.ListACS))
	route("POST /v1/acs", create(a.store.AddACS))
	route("GET /v1/acs/{name}", one(a.store.ACS))
	route("PUT /v1/acs/{name}", update(a.store.ChangeACS, func(v *ACS, key string) { v.Name = key }))
	route("DELETE /v1/acs/{name}", remove(a.store.RemoveACS))
	route("GET /v1/3dss", list(a.store.ListThreeDSServers))
	route("POST /v1/3dss", create(a.store.AddThreeDSServer))
	route("GET /v1/3dss/{name}", one(a.store.ThreeDSServer))
	route("PUT /v1/3dss/{name}", update(a.store.ChangeThreeDSServer, func(v *ThreeDSServer, key string) { v.Name = key }))
	route("DELETE /v1/3dss/{name}", remove(a.store.RemoveThreeDSServer))
	route("GET /v1/ranges", a.listRanges)
	route("POST /v1/ranges", create(a.store.AddRange))
	route("PUT /v1/ranges/{name}", update(a.store.ChangeRange, func(v *Range, key string) { v.Start = key }))
	route("DELETE /v1/ranges/{name}", remove(a.store.RemoveRange))
	route("GET /v1/sdks", list(a.store.ListSDKs))
	route("POST /v1/sdks", create(a.store.AddSDK))
	route("GET /v1/sdks/{name}", one(a.store.SDK))
	route("DELETE /v1/sdks/{name}", remove(a.store.RemoveSDK))
	// The token guards the whole mux, as the ACS's admin API does: a caller without it learns nothing,
	// not even which routes exist.
	return httpx.RequireToken("open3ds-ds-admin", a.token, false)(mux)
}

// storeProblem gives a store error its HTTP meaning; a *httpx.Problem passes as it is.
func storeProblem(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return httpx.NewProblem(http.StatusNotFound, "no such entry in the registry")
	case errors.Is(err, store.ErrConflict):
		return httpx.NewProblem(http.StatusConflict, "an entry of that name already exists")
	}
	return err
}

func list[T any](fn func(context.Context) ([]T, error)) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := fn(r.Context())
		if err != nil {
			return storeProblem(err)
		}
		return httpx.WriteJSON(w, http.StatusOK, v)
	}
}

func one[T any](fn func(context.Context, string) (T, error)) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := fn(r.Context(), r.PathValue("name"))
		if err != nil {
			return storeProblem(err)
		}
		return httpx.WriteJSON(w, http.StatusOK, v)
	}
}

// create decodes a T and stores it.
func create[T any](fn func(context.Context, T) error) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var v T
		if err := httpx.DecodeJSON(r, 0, &v); err != nil {
			return err
		}
		if err := fn(r.Context(), v); err != nil {
			return storeProblem(err)
		}
		return httpx.WriteJSON(w, http.StatusCreated, v)
	}
}

// update decodes a T, takes its key from the path (the body's is ignored) and stores it.
func update[T any](fn func(context.Context, T) error, setKey func(*T, string)) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var v T
		if err := httpx.DecodeJSON(r, 0, &v); err != nil {
			return err
		}
		setKey(&v, r.PathValue("name"))
		if err := fn(r.Context(), v); err != nil {
			return storeProblem(err)
		}
		return httpx.WriteJSON(w, http.StatusOK, v)
	}
}

func remove(fn func(context.Context, string) error) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := fn(r.Context(), r.PathValue("name")); err != nil {
			return storeProblem(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (a *Admin) getScheme(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.store.Scheme(r.Context())
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, sc)
}

func (a *Admin) putScheme(w http.ResponseWriter, r *http.Request) error {
	var sc Scheme
	if err := httpx.DecodeJSON(r, 0, &sc); err != nil {
		return err
	}
	stored, err := a.store.SetScheme(r.Context(), sc)
	if err != nil {
		return storeProblem(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, stored)
}

// rangeList is the ranges and the serial they are current at.
type rangeList struct {
	Serial int64   `json:"serial"`
	Ranges []Range `json:"ranges"`
}

func (a *Admin) listRanges(w http.ResponseWriter, r *http.Request) error {
	ranges, serial, err := a.store.Ranges(r.Context())
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, rangeList{Serial: serial, Ranges: ranges})
}
