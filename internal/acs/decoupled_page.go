package acs

import (
	"context"
	"errors"
	"net/http"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// The decoupled approval page: the demo bank app's page (bankapp.go) for a decoupled request,
// reached through the link the cardholder was sent. GET shows the purchase with Approve and
// Decline while the transaction waits; POST answers it. Its state is the transaction's, so the
// page says "expired" once the sweeper has ended it, whichever instance did.

func (b *Browser) serveDecoupled(w http.ResponseWriter, r *http.Request) error {
	return b.renderDecoupled(r.Context(), w, r.PathValue("token"), "")
}

func (b *Browser) serveDecoupledAnswer(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := r.ParseForm(); err != nil {
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "The request could not be read."}
	}
	token := r.PathValue("token")
	var approve bool
	switch r.PostForm.Get("answer") {
	case "approve":
		approve = true
	case "decline":
	default:
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "Unknown answer."}
	}
	t, err := b.AnswerDecoupled(ctx, token, approve)
	switch {
	case errors.Is(err, store.ErrConflict):
		// Answered already, or expired: the page says which.
		return b.renderDecoupled(ctx, w, token, "")
	case errors.Is(err, store.ErrNotFound):
		return &httpx.Problem{Status: http.StatusNotFound, Title: "This request is not known."}
	case err != nil:
		return err
	}
	b.Service.log().InfoContext(ctx, "decoupled request answered", "acsTransID", t.ACSTransID, "transStatus", t.TransStatus)
	return b.renderDecoupled(ctx, w, token, "")
}

// renderDecoupled shows the request a token names: the buttons while it waits, else its outcome
// (or the words of done, a message key).
func (b *Browser) renderDecoupled(ctx context.Context, w http.ResponseWriter, token, done string) error {
	row, t, err := b.Decoupled.DecoupledByToken(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return &httpx.Problem{Status: http.StatusNotFound, Title: "This request is not known."}
	}
	if err != nil {
		return err
	}
	p := b.bankPageFor(ctx, row.Locale, row.MerchantName, row.Exponent, t, token)
	switch {
	case done != "":
		p.Done = p.T[done]
	case t.EndedAt.IsZero() && b.Service.now().Before(row.Deadline):
		p.Pending = true
	case t.TransStatus == "Y":
		p.Done = p.T["dec_approved"]
	case t.TransStatus == "N" && t.Reason == DecoupledDeclineReason:
		p.Done = p.T["dec_declined"]
	default:
		p.Done = p.T["dec_expired"]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return bankAppPage.Execute(w, p)
}
