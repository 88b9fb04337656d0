package emv

// The tables of the ACS's answers: the ARes (PROTOCOL.md §2.3), the RReq (§2.6) and the 3DS Server's
// RRes (§2.7). Their channel and category come from the transaction's AReq (Context); the RReq carries
// its category itself. Elements that are conditional on the outcome (transStatus C, D, Y/A on payments)
// are optional here and required by the rules in rules_results.go.

var aresElements = join(
	header(
		uuid("threeDSServerTransID", allV, always),
		uuid("acsTransID", allV, always),
		uuid("dsTransID", allV, always),
		uuid("sdkTransID", allV, appOnly),
	),
	[]element{
		{name: "acsReferenceNumber", in: allV, req: always, f: fAN, max: 32},
		{name: "acsOperatorID", in: allV, f: fAN, max: 32},
		{name: "dsReferenceNumber", in: allV, req: always, f: fAN, max: 32},
		// transStatus is required for a payment; D and I exist from 2.2.0, S (SPC) in 2.3.1.
		{name: "transStatus", in: allV, req: payment, f: fAN,
			enum: codes("Y,N,U,A,C,R", "Y,N,U,A,C,D,R,I", "Y,N,U,A,C,D,R,I,S")},
		{name: "transStatusReason", in: allV, f: fN, min: 2, max: 2, enum: transStatusReasons},
		{name: "transStatusReasonInfo", in: v231, f: fAN, max: 256},
		{name: "transChallengeExemption", in: v231, f: fN, min: 2, max: 2, enum: codes("05,08,10,11,79,80-99")},
		{name: "acsChallengeMandated", in: allV, f: fAN, enum: yesNo},
		authType,
		authMethod,
		// acsURL must be https in 2.3.1; earlier schemas say only "URL".
		{name: "acsURL", in: upTo220, f: fURL, max: 2048},
		{name: "acsURL", in: v231, f: fHTTPS, max: 2048},
		acsRenderingType,
		{name: "acsSignedContent", in: upTo220, f: fJWS},
		{name: "acsSignedContent", in: v231, f: fJWS, max: 16000},
		{name: "acsDecConInd", in: from220, f: fAN, enum: yesNo},
		authValue210,
		authValue231,
		eci,
		cardholderInfo210,
		cardholderInfo231,
		// deviceInfoRecognisedVersion and threeDSRequestorAppURLInd are required of an app ARes in
		// 2.3.1. The first one's length is not in our sources [U]: we allow 32 characters.
		{name: "deviceInfoRecognisedVersion", in: v231, req: req(v231, app, anyCat), f: fAN, max: 32},
		{name: "threeDSRequestorAppURLInd", in: v231, req: req(v231, app, anyCat), f: fAN, enum: yesNo},
		{name: "spcTransData", in: v231, f: fAny},
		{name: "webAuthnCredList", in: v231, f: fAny},
		{name: "whiteListStatus", in: v220, f: fAN, enum: listStatuses},
		{name: "whiteListStatusSource", in: v220, f: fN, min: 2, max: 2, enum: listSources},
		{name: "trustListStatus", in: v231, f: fAN, enum: listStatuses},
		{name: "trustListStatusSource", in: v231, f: fN, min: 2, max: 2, enum: listSources},
		{name: "cardSecurityCodeStatus", in: v231, f: fAN, enum: yesNo},
		{name: "cardSecurityCodeStatusSource", in: v231, f: fN, min: 2, max: 2},
		{name: "deviceBindingStatus", in: v231, f: fN, min: 2, max: 2},
		{name: "deviceBindingStatusSource", in: v231, f: fN, min: 2, max: 2},
		{name: "broadInfo", in: from220, f: fAny},
	},
	extensions(),
)

var rreqElements = join(
	header(
		uuid("threeDSServerTransID", allV, always),
		uuid("acsTransID", allV, always),
		uuid("dsTransID", allV, always),
		// sdkTransID joins the RReq in 2.2.0.
		uuid("sdkTransID", from220, req(from220, app, anyCat)),
	),
	[]element{
		{name: "messageCategory", in: allV, req: always, f: fN, min: 2, max: 2, enum: codes("01,02,80-99")},
		// The RReq reports a final outcome: never C, I or S. In 2.3.1 it may also be D, when a
		// requestor that allowed decoupled as a fallback (DecReqInd F or B) was challenged and the
		// ACS switched to decoupled authentication; the final RReq follows [U, our reading].
		{name: "transStatus", in: allV, req: payment, f: fAN, enum: codes("Y,N,U,A,R", "Y,N,U,A,R", "Y,N,U,A,R,D")},
		{name: "transStatusReason", in: allV, f: fN, min: 2, max: 2, enum: transStatusReasons},
		{name: "transStatusReasonInfo", in: v231, f: fAN, max: 256},
		authType,
		authMethod,
		authValue210,
		authValue231,
		eci,
		// interactionCounter is required in 2.1.0 and conditional (a challenge took place) later.
		{name: "interactionCounter", in: allV, req: req(v210, anyCh, anyCat), f: fN, min: 2, max: 2},
		{name: "challengeCancel", in: allV, f: fN, min: 2, max: 2, enum: challengeCancels},
		acsRenderingType,
		cardholderInfo231,
		// challengeErrorReporting (2.3.1) is an Erro-like object whose members our sources do not list.
		{name: "challengeErrorReporting", in: v231, f: fAnyObject},
		{name: "whiteListStatus", in: v220, f: fAN, enum: listStatuses},
		{name: "whiteListStatusSource", in: v220, f: fN, min: 2, max: 2, enum: listSources},
		{name: "trustListStatus", in: v231, f: fAN, enum: listStatuses},
		{name: "trustListStatusSource", in: v231, f: fN, min: 2, max: 2, enum: listSources},
		{name: "deviceBindingStatus", in: v231, f: fN, min: 2, max: 2},
		{name: "deviceBindingStatusSource", in: v231, f: fN, min: 2, max: 2},
	},
	extensions(),
)

var rresElements = join(
	header(
		uuid("threeDSServerTransID", allV, always),
		uuid("acsTransID", allV, always),
		uuid("dsTransID", allV, always),
		uuid("sdkTransID", from220, req(from220, app, anyCat)),
	),
	[]element{
		// resultsStatus 03 (ARes not delivered) is [V] for 2.2.0; we admit it in 2.1.0 too rather than
		// refuse an acknowledgement.
		{name: "resultsStatus", in: allV, req: always, f: fN, min: 2, max: 2, enum: codes("01-03,80-99")},
	},
	extensions(),
)
