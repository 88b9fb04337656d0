package bench

import (
	"context"
	"errors"
	"net/http"

	"github.com/open3ds/open3ds/internal/shopapp"
	"github.com/open3ds/open3ds/internal/threedsserver"
	"github.com/open3ds/open3ds/pkg/sdk"
)

// AppChallengeScenario authenticates purchases as merchant apps do with the reference 3DS SDK: the
// SDK's transaction (a fresh key, device data encrypted to the DS), the app authentication through
// the merchant API, the challenge between the SDK and the ACS as JWE (the code read from the ACS's
// development outbox, as the cardholder reads it from their phone), and the RReq's result polled
// from the merchant API. Cards must be ones the ACS challenges with a code screen, or a choice of
// channels before it.
type AppChallengeScenario struct {
	API *MerchantAPI
	SDK *sdk.SDK
	// Codes reads each challenge's code from the outbox and polls the result; its API and Outbox are
	// this scenario's.
	Codes  *ChallengeScenario
	Cards  []string
	Expect []string
}

func (s *AppChallengeScenario) Do(ctx context.Context, i int64) error {
	tx, err := s.SDK.CreateTransaction()
	if err != nil {
		return err
	}
	body := shopapp.StartApp(shopapp.Purchase{Card: s.Cards[i%int64(len(s.Cards))], Amount: Amounts[mix(i+1)%uint64(len(Amounts))],
		Currency: "978"}, tx.AuthenticationRequestParameters())
	var res threedsserver.Result
	if err := s.API.call(ctx, "start app", http.MethodPost, "/v1/authentications", body, &res); err != nil {
		return err
	}
	if res.ErrorCode != "" {
		return Failf("Erro "+res.ErrorCode, "%s", res.ErrorDetail)
	}
	c := res.AppChallenge
	if res.TransStatus != "C" || c == nil {
		return Failf("no challenge: transStatus "+res.TransStatus, "the ACS did not challenge the card in the app")
	}
	out, err := tx.DoChallenge(ctx, shopapp.ChallengeOf(c), &benchUI{s: s.Codes, acsTransID: c.ACSTransID})
	var pe *sdk.ProtocolError
	var re *sdk.RuntimeError
	switch {
	case errors.As(err, &pe):
		return Failf("SDK Erro "+pe.Code, "%v", err)
	case errors.As(err, &re):
		return Failf("SDK runtime error", "%v", err)
	case err != nil:
		return err
	case out.TransStatus != "Y":
		return Failf("final CRes "+out.TransStatus, "the challenge did not end Y")
	}
	return s.Codes.final(ctx, res.ID)
}

// benchUI is the cardholder of one app challenge: the first channel offered, then the code.
type benchUI struct {
	s          *ChallengeScenario
	acsTransID string
}

func (u *benchUI) Text(ctx context.Context, _ sdk.Screen) (sdk.Answer, error) {
	code, err := u.s.code(ctx, u.acsTransID)
	return sdk.Answer{Entry: code}, err
}

func (u *benchUI) SingleSelect(_ context.Context, s sdk.Screen) (sdk.Answer, error) {
	if len(s.Options) == 0 {
		return sdk.Answer{}, Failf("a choice without options", "the ACS offered nothing to choose")
	}
	return sdk.Answer{Selected: []string{s.Options[0].Key}}, nil
}

func (u *benchUI) MultiSelect(ctx context.Context, s sdk.Screen) (sdk.Answer, error) {
	return u.SingleSelect(ctx, s)
}

func (u *benchUI) OOB(context.Context, sdk.Screen) (sdk.Answer, error) {
	return sdk.Answer{}, Failf("an out-of-band screen", "the bench answers code screens only: give --cards without bank-app cards")
}

func (u *benchUI) HTML(context.Context, sdk.Screen) (sdk.Answer, error) {
	return sdk.Answer{}, Failf("an HTML screen", "the bench answers native code screens only: give --cards without HTML cards")
}
