package sdk

import (
	"context"
	"fmt"
)

// UI shows the challenge's screens: the app implements it with its own views. Each method gets the
// screen the ACS sent and a ctx that ends when the challenge's time (sdkMaxTimeout) is up, and
// returns the cardholder's answer. An error ends the challenge: the SDK tells the ACS the
// transaction ended in error (challengeCancel 07) and DoChallenge returns that error.
type UI interface {
	// Text is acsUiType 01: the cardholder types a one-time code or other text into Answer.Entry.
	Text(ctx context.Context, s Screen) (Answer, error)
	// SingleSelect is acsUiType 02: one key of s.Options in Answer.Selected.
	SingleSelect(ctx context.Context, s Screen) (Answer, error)
	// MultiSelect is acsUiType 03: any keys of s.Options in Answer.Selected.
	MultiSelect(ctx context.Context, s Screen) (Answer, error)
	// OOB is acsUiType 04: show the text, let the cardholder authenticate elsewhere (the bank's
	// app), and return when they tap s.OOBContinueLabel; a zero Answer continues.
	OOB(ctx context.Context, s Screen) (Answer, error)
	// HTML is acsUiType 05: render s.HTML and return what its form submitted in Answer.HTMLData.
	HTML(ctx context.Context, s Screen) (Answer, error)
}

// Screen is one screen of the challenge, as the CRes describes it.
type Screen struct {
	UIType        string // acsUiType, 01-05
	Interaction   int    // 1 for the first screen
	Header        string // challengeInfoHeader
	Label         string // challengeInfoLabel: the label of the entry field
	Text          string // challengeInfoText
	TextIndicator bool   // challengeInfoTextIndicator Y: show the text as a warning
	AddInfo       string // challengeAddInfo
	SubmitLabel   string // submitAuthenticationLabel
	ResendLabel   string // resendInformationLabel: when set, offer to resend the code
	// WhyLabel and WhyText, ExpandLabel and ExpandText are the two folded explanations.
	WhyLabel, WhyText       string
	ExpandLabel, ExpandText string
	Options                 []Option // challengeSelectInfo, for 02 and 03
	OOBContinueLabel        string   // 04
	OOBAppURL, OOBAppLabel  string   // 04, 2.2.0 and later: a link into the bank's app
	HTML                    string   // 05: the ACS's page, decoded from acsHTML
	IssuerImage, PSImage    Image
}

// Option is one choice of a select screen.
type Option struct {
	Key, Label string
}

// Image is a logo at three screen densities (HTTPS URLs).
type Image struct {
	Medium, High, ExtraHigh string
}

// Answer is the cardholder's answer to a screen. Cancel and Resend win over the entry.
type Answer struct {
	// Entry is what the cardholder typed on a text screen; empty means they submitted nothing,
	// which the CReq says with challengeNoEntry.
	Entry string
	// Selected are the keys the cardholder chose on a select screen.
	Selected []string
	// HTMLData is what the ACS's HTML page submitted.
	HTMLData string
	// Resend asks the ACS for a new code (resendChallenge Y).
	Resend bool
	// Cancel says the cardholder cancelled (challengeCancel 01).
	Cancel bool
}

// show hands the screen to the UI method of its type.
func show(ctx context.Context, ui UI, s Screen) (Answer, error) {
	switch s.UIType {
	case "01":
		return ui.Text(ctx, s)
	case "02":
		return ui.SingleSelect(ctx, s)
	case "03":
		return ui.MultiSelect(ctx, s)
	case "04":
		return ui.OOB(ctx, s)
	case "05":
		return ui.HTML(ctx, s)
	}
	// The CRes check admits only 01-05, so this is a programming error.
	return Answer{}, fmt.Errorf("sdk: no screen for acsUiType %q", s.UIType)
}

// checkSelection refuses keys that the screen did not offer, and more than one on a single select:
// the ACS would refuse them, and the UI's mistake is better found here.
func checkSelection(s Screen, a Answer) error {
	if s.UIType == "02" && len(a.Selected) > 1 {
		return fmt.Errorf("sdk: a single-select screen takes one choice, not %d", len(a.Selected))
	}
	for _, k := range a.Selected {
		found := false
		for _, o := range s.Options {
			found = found || o.Key == k
		}
		if !found {
			return fmt.Errorf("sdk: the screen offered no choice %q", k)
		}
	}
	return nil
}
