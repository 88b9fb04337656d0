package emv

// The challenge tables: CReq (PROTOCOL.md §2.4) and CRes (§2.5). A browser CReq carries the ids and the
// window size; an app CReq (inside the JWE) carries the counter and the cardholder's input. The CRes
// elements of a next challenge screen depend on acsUiType, which is the rule cresScreen.

var creqElements = join(
	header(
		uuid("threeDSServerTransID", allV, always),
		uuid("acsTransID", allV, always),
		uuid("sdkTransID", allV, appOnly),
	),
	[]element{
		{name: "challengeWindowSize", in: allV, req: browser, f: fN, min: 2, max: 2, enum: codes("01-05")},
		{name: "sdkCounterStoA", in: allV, req: appOnly, f: fN, min: 3, max: 3},
		{name: "threeDSRequestorAppURL", in: from220, f: fURL, max: 2048},
		// challengeDataEntry holds a one-time code or the selected options; 45 characters.
		{name: "challengeDataEntry", in: allV, f: fAN, max: 45},
		{name: "challengeHTMLDataEntry", in: allV, f: fAN, max: 256},
		{name: "challengeNoEntry", in: allV, f: fAN, enum: codes("Y")},
		{name: "resendChallenge", in: allV, f: fAN, enum: yesNo},
		{name: "oobContinue", in: allV, f: fBool},
		{name: "challengeCancel", in: allV, f: fN, min: 2, max: 2, enum: challengeCancels},
		{name: "whitelistingDataEntry", in: v220, f: fAN, enum: yesNo},
		// 2.3.1 renames the white list a trust list; we take the element to follow [P].
		{name: "trustlistingDataEntry", in: v231, f: fAN, enum: yesNo},
	},
	extensions(),
)

var cresElements = join(
	header(
		uuid("threeDSServerTransID", allV, always),
		uuid("acsTransID", allV, always),
		uuid("sdkTransID", allV, appOnly),
	),
	[]element{
		{name: "acsCounterAtoS", in: allV, req: appOnly, f: fN, min: 3, max: 3},
		{name: "challengeCompletionInd", in: allV, req: always, f: fAN, enum: yesNo},
		// A final CRes reports Y or N; in 2.3.1 also D, when a challenge whose requestor allowed
		// decoupled as a fallback (threeDSRequestorDecReqInd F or B) moved to the bank's app
		// (our reading, docs/protocol.md §1.7; cresRules check the AReq allowed it).
		{name: "transStatus", in: allV, f: fAN, enum: codes("Y,N", "Y,N", "Y,N,D")},
		{name: "acsUiType", in: allV, f: fN, min: 2, max: 2, enum: uiTypes},
		// acsHTML is base64url-encoded HTML; we bound it at 100000 characters [U].
		{name: "acsHTML", in: allV, f: fBase64URL, max: 100000},
		{name: "acsHTMLRefresh", in: allV, f: fBase64URL, max: 100000},
		{name: "challengeAddInfo", in: allV, f: fAN, max: 256},
		{name: "challengeInfoHeader", in: allV, f: fAN, max: 45},
		{name: "challengeInfoLabel", in: allV, f: fAN, max: 45},
		{name: "challengeInfoText", in: allV, f: fAN, max: 350},
		{name: "challengeInfoTextIndicator", in: allV, f: fAN, enum: yesNo},
		{name: "challengeSelectInfo", in: allV, f: fArray, min: 1, item: arrayOf(element{f: fStringMap})},
		{name: "expandInfoLabel", in: allV, f: fAN, max: 45},
		{name: "expandInfoText", in: allV, f: fAN, max: 256},
		{name: "issuerImage", in: allV, f: fObject, sub: images},
		{name: "psImage", in: allV, f: fObject, sub: images},
		{name: "oobAppURL", in: from220, f: fURL, max: 256},
		{name: "oobAppLabel", in: from220, f: fAN, max: 45},
		{name: "oobContinueLabel", in: allV, f: fAN, max: 45},
		{name: "resendInformationLabel", in: allV, f: fAN, max: 45},
		{name: "submitAuthenticationLabel", in: allV, f: fAN, max: 45},
		{name: "whitelistingInfoText", in: v220, f: fAN, max: 64},
		{name: "trustlistingInfoText", in: v231, f: fAN, max: 64}, // renamed with the trust list [P]
		{name: "whyInfoLabel", in: allV, f: fAN, max: 45},
		{name: "whyInfoText", in: allV, f: fAN, max: 256},
	},
	extensions(),
)

// images is an issuerImage or psImage object: one URL per screen density, each optional.
var images = []element{
	{name: "medium", in: allV, f: fURL, max: 2048},
	{name: "high", in: allV, f: fURL, max: 2048},
	{name: "extraHigh", in: allV, f: fURL, max: 2048},
}
