package acs

import (
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// TransactionView is what the admin API shows of one authentication: enough for an analyst to see
// what the risk engine decided and why (every reason, including those of the 2.3.1 rules), and
// nothing of the card beyond its masked number; the authentication value stays out.
type TransactionView struct {
	ACSTransID        string    `json:"acsTransID"`
	ThreeDSServerID   string    `json:"threeDSServerTransID"`
	DSTransID         string    `json:"dsTransID,omitempty"`
	IssuerID          string    `json:"issuer"`
	MaskedPAN         string    `json:"maskedPan"`
	MessageVersion    string    `json:"messageVersion"`
	MessageCategory   string    `json:"messageCategory"`
	DeviceChannel     string    `json:"deviceChannel"`
	Amount            int64     `json:"amount"`
	Currency          string    `json:"currency,omitempty"`
	Merchant          string    `json:"merchant,omitempty"`
	RiskScore         int       `json:"riskScore"`
	Reasons           []string  `json:"reasons"`
	LiveDecision      string    `json:"liveDecision"`
	ShadowDecision    string    `json:"shadowDecision"`
	TransStatus       string    `json:"transStatus,omitempty"`
	TransStatusReason string    `json:"transStatusReason,omitempty"`
	ECI               string    `json:"eci,omitempty"`
	CreatedAt         time.Time `json:"createdAt"`
	EndedAt           time.Time `json:"endedAt,omitzero"`
}

// getTransaction serves GET /v1/transactions/{acsTransID}.
func (a *Admin) getTransaction(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Store.Transaction(r.Context(), r.PathValue("acsTransID"))
	if err != nil {
		return problem(err)
	}
	return httpx.WriteJSON(w, http.StatusOK, TransactionView{
		ACSTransID: t.ACSTransID, ThreeDSServerID: t.ThreeDSServerTransID, DSTransID: t.DSTransID, IssuerID: t.IssuerID,
		MaskedPAN: t.MaskedPAN, MessageVersion: t.MessageVersion, MessageCategory: t.MessageCategory,
		DeviceChannel: t.DeviceChannel, Amount: t.Amount, Currency: t.Currency, Merchant: t.Merchant,
		RiskScore: t.RiskScore, Reasons: nonNil(t.Reasons), LiveDecision: t.LiveDecision, ShadowDecision: t.ShadowDecision,
		TransStatus: t.TransStatus, TransStatusReason: t.Reason, ECI: t.ECI, CreatedAt: t.CreatedAt, EndedAt: t.EndedAt,
	})
}
