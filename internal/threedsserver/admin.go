package threedsserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// Admin is the operators' API for merchants, behind a bearer token, on its own listener (loopback by
// default): the operations of `open3ds enrol merchant` as JSON.
type Admin struct {
	store Store
	token string
	now   func() time.Time
}

// NewAdmin builds the API. An empty token refuses every call.
func NewAdmin(s Store, token string) *Admin {
	return &Admin{store: s, token: token, now: time.Now}
}

// AdminRoutes are the routes of Admin.Handler.
var AdminRoutes = []string{
	"GET /v1/merchants",
	"POST /v1/merchants",
	"GET /v1/merchants/{id}",
	"PUT /v1/merchants/{id}",
	"DELETE /v1/merchants/{id}",
	"POST /v1/merchants/{id}/key",
}

// Handler routes the API under /v1/, every route behind the bearer token.
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	hs := []httpx.HandlerFunc{a.list, a.create, a.one, a.update, a.remove, a.rotateKey}
	for i, p := range AdminRoutes {
		mux.Handle(p, httpx.API(hs[i]))
	}
	return httpx.RequireToken("open3ds-3dss-admin", a.token, false)(mux)
}

// CreatedMerchant is a new merchant with its API key, shown this once.
type CreatedMerchant struct {
	Merchant
	APIKey string `json:"apiKey"`
}

func storeProblem(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return httpx.NewProblem(http.StatusNotFound, "no such merchant")
	case errors.Is(err, store.ErrConflict):
		return httpx.NewProblem(http.StatusConflict, "a merchant of that id exists, or it still has transactions")
	}
	return err
}

func (a *Admin) list(w http.ResponseWriter, r *http.Request) error {
	l, err := a.store.ListMerchants(r.Context())
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, l)
}

func (a *Admin) one(w http.ResponseWriter, r *http.Request) error {
	m, err := a.store.Merchant(r.Context(), r.PathValue("id"))
	if err != nil {
		return storeProblem(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, m)
}

func (a *Admin) create(w http.ResponseWriter, r *http.Request) error {
	var m Merchant
	if err := httpx.DecodeJSON(r, 16<<10, &m); err != nil {
		return err
	}
	out, err := AddMerchant(r.Context(), a.store, m, a.now())
	if err != nil {
		return storeProblem(err)
	}
	return httpx.WriteJSON(w, http.StatusCreated, out)
}

// AddMerchant validates and stores m with a new API key, and returns it with the key.
func AddMerchant(ctx context.Context, s Store, m Merchant, now time.Time) (CreatedMerchant, error) {
	if err := m.Validate(); err != nil {
		return CreatedMerchant{}, err
	}
	key, hash := NewAPIKey()
	m.CreatedAt = now
	if err := s.AddMerchant(ctx, m, hash); err != nil {
		return CreatedMerchant{}, err
	}
	return CreatedMerchant{Merchant: m, APIKey: key}, nil
}

func (a *Admin) update(w http.ResponseWriter, r *http.Request) error {
	var m Merchant
	if err := httpx.DecodeJSON(r, 16<<10, &m); err != nil {
		return err
	}
	m.ID = r.PathValue("id")
	if err := m.Validate(); err != nil {
		return err
	}
	if err := a.store.ChangeMerchant(r.Context(), m, ""); err != nil {
		return storeProblem(err)
	}
	return a.one(w, r)
}

func (a *Admin) remove(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.RemoveMerchant(r.Context(), r.PathValue("id")); err != nil {
		return storeProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateKey gives the merchant a new API key; the old one stops working at once.
func (a *Admin) rotateKey(w http.ResponseWriter, r *http.Request) error {
	m, err := a.store.Merchant(r.Context(), r.PathValue("id"))
	if err != nil {
		return storeProblem(err)
	}
	key, hash := NewAPIKey()
	if err := a.store.ChangeMerchant(r.Context(), m, hash); err != nil {
		return storeProblem(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, CreatedMerchant{Merchant: m, APIKey: key})
}
