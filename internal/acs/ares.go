package acs

import (
	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/emv"
)

// deviceInfoVersion is the newest version of the SDK's device information (its DV) the ACS reads.
const deviceInfoVersion = "1.7"

// ares builds the answer for a decision: the fields every ARes carries, then those its status needs.
func (s *Service) ares(a *emv.AReq, t *Transaction, d decision, is Issuer) *emv.ARes {
	res := &emv.ARes{
		MessageType: emv.TypeARes, MessageVersion: a.MessageVersion,
		ThreeDSServerTransID: a.ThreeDSServerTransID, ACSTransID: t.ACSTransID, DSTransID: a.DSTransID,
		SDKTransID: a.SDKTransID, ACSReferenceNumber: s.ReferenceNumber, ACSOperatorID: s.OperatorID,
		DSReferenceNumber: a.DSReferenceNumber, TransStatus: d.status, TransStatusReason: d.reason,
	}
	if res.ACSReferenceNumber == "" {
		res.ACSReferenceNumber = "OPEN3DS-ACS"
	}
	if res.DSReferenceNumber == "" {
		res.DSReferenceNumber = "OPEN3DS-DS"
	}
	v231 := emv.CompareVersions(a.MessageVersion, emv.Version231) >= 0
	if v231 && a.DeviceChannel == emv.ChannelApp {
		// 2.3.1 requires both of every app ARes, whatever its status. The ACS does not switch back
		// to the requestor's app out of band, so it never uses threeDSRequestorAppURL.
		res.DeviceInfoRecognisedVersion, res.ThreeDSRequestorAppURLInd = deviceInfoVersion, "N"
	}
	mandated := "N"
	if d.mandated {
		mandated = "Y"
	}
	switch d.status {
	case "C":
		res.ACSChallengeMandated = mandated
		if a.DeviceChannel != emv.ChannelApp {
			res.ACSURL = s.ChallengeURL // the app's acsURL travels signed, in acsSignedContent
		}
		if v231 {
			res.AuthenticationMethod = []string{"02"}
		} else {
			res.AuthenticationType = "02"
		}
	case "D":
		res.ACSChallengeMandated, res.ACSDecConInd = mandated, "Y"
		if v231 {
			res.AuthenticationMethod = []string{"11"}
		} else {
			res.AuthenticationType = "04"
		}
		text := "Approve this payment in your " + is.Brand.Name + " app."
		res.CardholderInfo = emv.CardholderInfo{Text: text, Object: v231}
	case "N", "R":
		if is.ID != "" {
			res.ECI = authvalue.ECI(is.ECIStyle, 'N')
		}
	}
	return res
}

// authValue makes the authentication value and ECI of a Y or A answer with the issuer's keys.
func (s *Service) authValue(a *emv.AReq, t *Transaction, res *emv.ARes, is Issuer) error {
	keys, ok := s.Keys(is.AuthValueKeyRef)
	if !ok || is.ID == "" {
		return errNoKeys
	}
	v, err := keys.Create(AuthFacts{ACSTransID: t.ACSTransID, PAN: a.AcctNumber, Amount: a.PurchaseAmount,
		Currency: a.PurchaseCurrency, Merchant: a.AcquirerMerchantID, Outcome: res.TransStatus[0], Time: t.CreatedAt})
	if err != nil {
		return err
	}
	res.AuthenticationValue, res.ECI = v, authvalue.ECI(is.ECIStyle, res.TransStatus[0])
	return nil
}

// appARes completes the ARes of an app challenge: its rendering type and acsSignedContent, and
// gives the app side of the challenge to store with the transaction.
func (s *Service) appARes(a *emv.AReq, t *Transaction, d decision, res *emv.ARes) (*AppRow, error) {
	jws, session, err := s.signedContent(a)
	if err != nil {
		return nil, err
	}
	res.ACSSignedContent = jws
	res.ACSRenderingType = &emv.ACSRenderingType{ACSInterface: d.iface, ACSUiTemplate: d.ui}
	row := &AppRow{ACSTransID: t.ACSTransID, SDKTransID: a.SDKTransID, Session: session, UIType: d.ui, Interface: d.iface}
	if d.ui == UIOOB {
		// Only the bank-app screen links to the bank app's page, so only it needs a token naming the
		// challenge there; AppChallengeByOOBToken finds no challenge by an empty one.
		row.OOBToken = oobToken(session)
		if emv.CompareVersions(a.MessageVersion, emv.Version231) < 0 {
			res.AuthenticationType = "03" // out of band
		}
	}
	return row, nil
}
