package emv

// CReq is the challenge request (PROTOCOL.md §2.4). In the browser it carries only the ids and the window
// size; in the app it carries the cardholder's input and travels inside a JWE.
type CReq struct {
	MessageType          string `json:"messageType"`
	MessageVersion       string `json:"messageVersion,omitempty"`
	ThreeDSServerTransID string `json:"threeDSServerTransID,omitempty"`
	ACSTransID           string `json:"acsTransID,omitempty"`
	SDKTransID           string `json:"sdkTransID,omitempty"`
	ChallengeWindowSize  string `json:"challengeWindowSize,omitempty"`

	// App channel. ChallengeDataEntry holds the cardholder's one-time code: never log it.
	SDKCounterStoA         string `json:"sdkCounterStoA,omitempty"`
	ThreeDSRequestorAppURL string `json:"threeDSRequestorAppURL,omitempty"`
	ChallengeDataEntry     string `json:"challengeDataEntry,omitempty"`
	ChallengeNoEntry       string `json:"challengeNoEntry,omitempty"`
	ChallengeHTMLDataEntry string `json:"challengeHTMLDataEntry,omitempty"`
	ResendChallenge        string `json:"resendChallenge,omitempty"`
	OOBContinue            *bool  `json:"oobContinue,omitempty"`
	ChallengeCancel        string `json:"challengeCancel,omitempty"`
	WhitelistingDataEntry  string `json:"whitelistingDataEntry,omitempty"`
	TrustlistingDataEntry  string `json:"trustlistingDataEntry,omitempty"`

	MessageExtension []MessageExtension `json:"messageExtension,omitempty"`
}

// CRes is the challenge response (PROTOCOL.md §2.5): the final result in the browser, and in the app
// also each screen of the challenge.
type CRes struct {
	MessageType            string `json:"messageType"`
	MessageVersion         string `json:"messageVersion,omitempty"`
	ThreeDSServerTransID   string `json:"threeDSServerTransID,omitempty"`
	ACSTransID             string `json:"acsTransID,omitempty"`
	SDKTransID             string `json:"sdkTransID,omitempty"`
	ACSCounterAtoS         string `json:"acsCounterAtoS,omitempty"`
	ChallengeCompletionInd string `json:"challengeCompletionInd,omitempty"`
	TransStatus            string `json:"transStatus,omitempty"`

	// The next screen of an app challenge.
	ACSUiType                  string              `json:"acsUiType,omitempty"`
	ACSHTML                    string              `json:"acsHTML,omitempty"`
	ACSHTMLRefresh             string              `json:"acsHTMLRefresh,omitempty"`
	ChallengeAddInfo           string              `json:"challengeAddInfo,omitempty"`
	ChallengeInfoHeader        string              `json:"challengeInfoHeader,omitempty"`
	ChallengeInfoLabel         string              `json:"challengeInfoLabel,omitempty"`
	ChallengeInfoText          string              `json:"challengeInfoText,omitempty"`
	ChallengeInfoTextIndicator string              `json:"challengeInfoTextIndicator,omitempty"`
	ChallengeSelectInfo        []map[string]string `json:"challengeSelectInfo,omitempty"`
	ExpandInfoLabel            string              `json:"expandInfoLabel,omitempty"`
	ExpandInfoText             string              `json:"expandInfoText,omitempty"`
	IssuerImage                *Image              `json:"issuerImage,omitempty"`
	PSImage                    *Image              `json:"psImage,omitempty"`
	OOBAppURL                  string              `json:"oobAppURL,omitempty"`
	OOBAppLabel                string              `json:"oobAppLabel,omitempty"`
	OOBContinueLabel           string              `json:"oobContinueLabel,omitempty"`
	ResendInformationLabel     string              `json:"resendInformationLabel,omitempty"`
	SubmitAuthenticationLabel  string              `json:"submitAuthenticationLabel,omitempty"`
	WhitelistingInfoText       string              `json:"whitelistingInfoText,omitempty"`
	TrustlistingInfoText       string              `json:"trustlistingInfoText,omitempty"`
	WhyInfoLabel               string              `json:"whyInfoLabel,omitempty"`
	WhyInfoText                string              `json:"whyInfoText,omitempty"`

	MessageExtension []MessageExtension `json:"messageExtension,omitempty"`
}

// Image is an issuer or payment-system logo at three densities (issuerImage, psImage), as HTTPS URLs.
type Image struct {
	Medium    string `json:"medium,omitempty"`
	High      string `json:"high,omitempty"`
	ExtraHigh string `json:"extraHigh,omitempty"`
}
