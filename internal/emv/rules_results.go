package emv

// Rules of the ACS's answers (PROTOCOL.md §2.1, §1.6, §1.7).

// outcomeRules hold for the ARes and the RReq alike; they read the few elements both carry.
type outcome struct {
	status, reason, value, eci string
}

// authenticatedPaymentHasValue: Y or A on a payment carries the authentication value, and, our choice
// (scheme rules differ on when ECI may be absent), the ECI that goes with it into authorisation.
func authenticatedPaymentHasValue(o outcome, x *ruleCtx) []string {
	if !x.payment() || (o.status != "Y" && o.status != "A") {
		return nil
	}
	return missing("authenticationValue", o.value, "eci", o.eci)
}

// deniedPaymentHasReason: N on a payment says why.
func deniedPaymentHasReason(o outcome, x *ruleCtx) []string {
	return when(x.payment() && o.status == "N" && o.reason == "", "transStatusReason")
}

// reasonNeedsStatus: a reason explains a status, so it never comes alone.
func reasonNeedsStatus(o outcome, _ *ruleCtx) []string {
	return when(o.reason != "" && o.status == "", "transStatus")
}

func aresOutcome(m *ARes) outcome {
	return outcome{m.TransStatus, m.TransStatusReason, m.AuthenticationValue, m.ECI}
}

func rreqOutcome(m *RReq) outcome {
	return outcome{m.TransStatus, m.TransStatusReason, m.AuthenticationValue, m.ECI}
}

var aresRules = []rule[*ARes]{
	{"versionMatchesAReq", func(m *ARes, x *ruleCtx) []string { return versionMatchesAReq(m.MessageVersion, x) }},
	{"authenticatedPaymentHasValue", func(m *ARes, x *ruleCtx) []string {
		return authenticatedPaymentHasValue(aresOutcome(m), x)
	}},
	{"deniedPaymentHasReason", func(m *ARes, x *ruleCtx) []string { return deniedPaymentHasReason(aresOutcome(m), x) }},
	{"reasonNeedsStatus", func(m *ARes, x *ruleCtx) []string { return reasonNeedsStatus(aresOutcome(m), x) }},
	{"challengeElements", challengeElements},
	{"challengeAllowed", func(m *ARes, x *ruleCtx) []string {
		// No cardholder is present in 3RI, and indicator 06 asks for data sharing only.
		ind := x.challengeInd()
		return when(m.TransStatus == "C" && (x.ch == tri || (ind != nil && Has(*ind, "06"))), "transStatus")
	}},
	{"decoupledElements", decoupledElements},
	{"informationalOnly", func(m *ARes, x *ruleCtx) []string {
		// I acknowledges a requestor's "no challenge" preference: indicators 05, 06 and 07.
		ind := x.challengeInd()
		if m.TransStatus != "I" || ind == nil {
			return nil
		}
		return when(!Has(*ind, "05") && !Has(*ind, "06") && !Has(*ind, "07"), "transStatus")
	}},
}

// challengeElements: C tells the requestor how to start the challenge, which differs by channel. When the
// channel is unknown and the ARes has no sdkTransID, it is taken as a browser one: C excludes 3RI.
func challengeElements(m *ARes, x *ruleCtx) []string {
	if m.TransStatus != "C" {
		return nil
	}
	out := missing("acsChallengeMandated", m.ACSChallengeMandated)
	out = append(out, authenticationKind(m, x)...)
	switch x.ch {
	case app:
		out = append(out, when(m.ACSRenderingType == nil, "acsRenderingType")...)
		out = append(out, missing("acsSignedContent", m.ACSSignedContent)...)
	case tri:
		// challengeAllowed refuses C here; no channel elements to ask for.
	default:
		out = append(out, missing("acsURL", m.ACSURL)...)
	}
	return out
}

// authenticationKind asks for authenticationType up to 2.2.0 and authenticationMethod in 2.3.1.
func authenticationKind(m *ARes, x *ruleCtx) []string {
	if x.vi == 2 {
		return when(len(m.AuthenticationMethod) == 0, "authenticationMethod")
	}
	return missing("authenticationType", m.AuthenticationType)
}

// decoupledElements: D only answers a requestor that asked for decoupled authentication (Y, or in
// 2.3.1 B; F allows D only later, in the RReq and a final CRes), and confirms it. Up to 2.2.0 its authenticationType is 04 (decoupled); 2.3.1's method codes have no decoupled
// value, so there we ask only that authenticationMethod be present.
func decoupledElements(m *ARes, x *ruleCtx) []string {
	if m.TransStatus != "D" {
		return nil
	}
	ind := ""
	if x.areq != nil {
		ind = x.areq.ThreeDSRequestorDecReqInd
	}
	out := when(x.areq != nil && ind != "Y" && ind != "B", "transStatus")
	out = append(out, when(m.ACSDecConInd != "Y", "acsDecConInd")...)
	out = append(out, missing("acsChallengeMandated", m.ACSChallengeMandated)...)
	if x.vi < 2 {
		return append(out, when(m.AuthenticationType != "04", "authenticationType")...)
	}
	return append(out, authenticationKind(m, x)...)
}

var rreqRules = []rule[*RReq]{
	{"versionMatchesAReq", func(m *RReq, x *ruleCtx) []string { return versionMatchesAReq(m.MessageVersion, x) }},
	{"authenticatedPaymentHasValue", func(m *RReq, x *ruleCtx) []string {
		return authenticatedPaymentHasValue(rreqOutcome(m), x)
	}},
	{"deniedPaymentHasReason", func(m *RReq, x *ruleCtx) []string { return deniedPaymentHasReason(rreqOutcome(m), x) }},
	{"reasonNeedsStatus", func(m *RReq, x *ruleCtx) []string { return reasonNeedsStatus(rreqOutcome(m), x) }},
	{"timeoutReasonNeedsCancel", func(m *RReq, x *ruleCtx) []string {
		// Reason 14 (timed out at the ACS) says which timeout: 04 other, 05 first CReq never came.
		return when(m.TransStatusReason == "14" && m.ChallengeCancel != "04" && m.ChallengeCancel != "05", "challengeCancel")
	}},
}

var rresRules = []rule[*RRes]{
	{"versionMatchesAReq", func(m *RRes, x *ruleCtx) []string { return versionMatchesAReq(m.MessageVersion, x) }},
}
