package acs

import (
	"net/http"
	"strconv"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

func (a *Admin) listCardholders(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Store.Cardholders(r.Context(), r.URL.Query().Get("issuer"))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, map[string]any{"cardholders": nonNilSlice(list)})
}

func (a *Admin) createCardholder(w http.ResponseWriter, r *http.Request) error {
	var c Cardholder
	if err := httpx.DecodeJSON(r, maxAdminBody, &c); err != nil {
		return err
	}
	c.ID = ""
	got, err := a.Store.CreateCardholder(r.Context(), c)
	if err != nil {
		return problem(err)
	}
	got.PAN = "" // an answer shows the masked PAN only
	return httpx.WriteJSON(w, http.StatusCreated, got)
}

func (a *Admin) getCardholder(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Store.Cardholder(r.Context(), r.PathValue("id"))
	if err != nil {
		return problem(err)
	}
	c.PAN = ""
	return httpx.WriteJSON(w, http.StatusOK, c)
}

func (a *Admin) updateCardholder(w http.ResponseWriter, r *http.Request) error {
	var c Cardholder
	if err := httpx.DecodeJSON(r, maxAdminBody, &c); err != nil {
		return err
	}
	c.ID = r.PathValue("id")
	if err := a.Store.UpdateCardholder(r.Context(), c); err != nil {
		return problem(err)
	}
	return a.getCardholder(w, r)
}

func (a *Admin) deleteCardholder(w http.ResponseWriter, r *http.Request) error {
	if err := a.Store.DeleteCardholder(r.Context(), r.PathValue("id")); err != nil {
		return problem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// verifyRequest is what the issuer's authorisation system knows at authorisation time.
type verifyRequest struct {
	PAN                 string `json:"pan"`
	Amount              string `json:"amount"`
	Currency            string `json:"currency"`
	AuthenticationValue string `json:"authenticationValue"`
}

type verifyAnswer struct {
	Valid       bool   `json:"valid"`
	ACSTransID  string `json:"acsTransID,omitempty"`
	TransStatus string `json:"transStatus,omitempty"`
	ECI         string `json:"eci,omitempty"`
	AlreadyUsed bool   `json:"alreadyUsed"`
}

// verify checks an authentication value against the card's recent transactions and marks it used on
// its first successful check, so that a replayed value shows up.
func (a *Admin) verify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	if err := httpx.DecodeJSON(r, maxAdminBody, &req); err != nil {
		return err
	}
	var bad []httpx.FieldError
	if !digits(req.PAN) || len(req.PAN) < 13 || len(req.PAN) > 19 {
		bad = append(bad, httpx.FieldError{Field: "pan", Detail: "must be 13 to 19 digits"})
	}
	if _, err := strconv.ParseUint(req.Amount, 10, 63); err != nil {
		bad = append(bad, httpx.FieldError{Field: "amount", Detail: "must be a whole number of minor units"})
	}
	if !digits(req.Currency) || len(req.Currency) != 3 {
		bad = append(bad, httpx.FieldError{Field: "currency", Detail: "must be a 3-digit ISO 4217 code"})
	}
	if req.AuthenticationValue == "" || len(req.AuthenticationValue) > 4000 {
		bad = append(bad, httpx.FieldError{Field: "authenticationValue", Detail: "is required"})
	}
	if len(bad) > 0 {
		return httpx.Invalid(bad...)
	}
	ctx := r.Context()
	txs, err := a.Store.TransactionsForPAN(ctx, a.Store.LookupHash(req.PAN), 100)
	if err != nil {
		return err
	}
	for _, t := range txs {
		if t.AuthValue != req.AuthenticationValue {
			continue
		}
		is, err := a.Store.Issuer(ctx, t.IssuerID)
		if err != nil {
			return err
		}
		keys, ok := a.Keys(is.AuthValueKeyRef)
		if !ok {
			return httpx.NewProblem(http.StatusServiceUnavailable, "the issuer's authentication-value keys are not configured")
		}
		valid, err := keys.Verify(req.AuthenticationValue, AuthFacts{ACSTransID: t.ACSTransID, PAN: req.PAN, Amount: req.Amount,
			Currency: req.Currency, Merchant: t.Merchant, Outcome: t.TransStatus[0], Time: t.CreatedAt})
		if err != nil || !valid {
			break
		}
		now := time.Now()
		if a.Now != nil {
			now = a.Now()
		}
		used, err := a.Store.UseAuthValue(ctx, t.ACSTransID, now)
		if err != nil {
			return err
		}
		return httpx.WriteJSON(w, http.StatusOK, verifyAnswer{Valid: true, ACSTransID: t.ACSTransID,
			TransStatus: t.TransStatus, ECI: t.ECI, AlreadyUsed: used})
	}
	return httpx.WriteJSON(w, http.StatusOK, verifyAnswer{})
}
