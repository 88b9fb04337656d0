package acs

import (
	"errors"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// Admin is the issuer's administration API: issuers, cardholders, the verification of
// authentication values and a look at one transaction's decision. It listens apart from the protocol, behind a bearer token.
type Admin struct {
	Store Store
	Keys  func(ref string) (AuthValueKeys, bool)
	// Token is the bearer token every request must carry (OPEN3DS_ACS_ADMIN_TOKEN).
	Token string
	Now   func() time.Time
}

const maxAdminBody = 64 << 10

// Handler serves the admin API under /v1/.
func (a *Admin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/issuers", httpx.API(a.listIssuers))
	mux.Handle("POST /v1/issuers", httpx.API(a.createIssuer))
	mux.Handle("GET /v1/issuers/{id}", httpx.API(a.getIssuer))
	mux.Handle("PUT /v1/issuers/{id}", httpx.API(a.updateIssuer))
	mux.Handle("DELETE /v1/issuers/{id}", httpx.API(a.deleteIssuer))
	mux.Handle("GET /v1/cardholders", httpx.API(a.listCardholders))
	mux.Handle("POST /v1/cardholders", httpx.API(a.createCardholder))
	mux.Handle("GET /v1/cardholders/{id}", httpx.API(a.getCardholder))
	mux.Handle("PUT /v1/cardholders/{id}", httpx.API(a.updateCardholder))
	mux.Handle("DELETE /v1/cardholders/{id}", httpx.API(a.deleteCardholder))
	mux.Handle("POST /v1/cardholders/{id}/unlock", httpx.API(a.unlockCardholder))
	mux.Handle("POST /v1/authentication-values/verify", httpx.API(a.verify))
	mux.Handle("GET /v1/transactions/{acsTransID}", httpx.API(a.getTransaction))
	return httpx.RequireToken("open3ds-acs", a.Token, false)(mux)
}

// problem turns store and validation errors into what the client sees.
func problem(err error) error {
	var fe *FieldError
	switch {
	case errors.As(err, &fe) && errors.Is(err, store.ErrConflict):
		return httpx.NewProblem(http.StatusConflict, "conflicts with what is enrolled", httpx.FieldError{Field: fe.Field, Detail: fe.Reason})
	case errors.As(err, &fe) && errors.Is(err, store.ErrNotFound):
		return httpx.NewProblem(http.StatusUnprocessableEntity, "refers to something that does not exist", httpx.FieldError{Field: fe.Field, Detail: fe.Reason})
	case errors.As(err, &fe):
		return httpx.Invalid(httpx.FieldError{Field: fe.Field, Detail: fe.Reason})
	case errors.Is(err, store.ErrNotFound):
		return httpx.NewProblem(http.StatusNotFound, "no such record")
	case errors.Is(err, store.ErrConflict):
		return &httpx.Problem{Status: http.StatusConflict, Detail: "conflicts with what is enrolled", Err: err}
	}
	return err
}

func (a *Admin) listIssuers(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Store.Issuers(r.Context())
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"issuers": nonNilSlice(list)})
}

func (a *Admin) createIssuer(w http.ResponseWriter, r *http.Request) error {
	var is Issuer
	if err := httpx.DecodeJSON(r, maxAdminBody, &is); err != nil {
		return err
	}
	if err := a.Store.CreateIssuer(r.Context(), is); err != nil {
		return problem(err)
	}
	got, err := a.Store.Issuer(r.Context(), is.ID)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, got)
}

func (a *Admin) getIssuer(w http.ResponseWriter, r *http.Request) error {
	is, err := a.Store.Issuer(r.Context(), r.PathValue("id"))
	if err != nil {
		return problem(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, is)
}

func (a *Admin) updateIssuer(w http.ResponseWriter, r *http.Request) error {
	var is Issuer
	if err := httpx.DecodeJSON(r, maxAdminBody, &is); err != nil {
		return err
	}
	is.ID = r.PathValue("id")
	if err := a.Store.UpdateIssuer(r.Context(), is); err != nil {
		return problem(err)
	}
	return a.getIssuer(w, r)
}

func (a *Admin) deleteIssuer(w http.ResponseWriter, r *http.Request) error {
	if err := a.Store.DeleteIssuer(r.Context(), r.PathValue("id")); err != nil {
		return problem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
