package emv

import (
	"fmt"
	"strconv"
	"strings"
)

// Cross-field rules: the checks no single dictionary entry can express, such as "transStatus C needs
// acsURL on the browser". Each is a named function over the decoded message that returns the names of
// the elements at fault; every failure is 203, with all the names of all the rules that failed. A rule
// that depends on what only the AReq knows (Context) is skipped when the AReq is unknown.

type rule[M any] struct {
	name  string
	check func(m M, x *ruleCtx) []string
}

// ruleCtx is what a rule may know beyond the message: its version, the channel and category the
// message was found to be in (see scopeOf), and the transaction's AReq when the caller gave it.
type ruleCtx struct {
	vi   int
	ch   chset
	cat  catset
	areq *AReq
}

func (x *ruleCtx) payment() bool { return x.cat == pa }

// challengeInd is the AReq's threeDSRequestorChallengeInd, or nil when the AReq is unknown.
func (x *ruleCtx) challengeInd() *OneOrMany[string] {
	if x.areq == nil {
		return nil
	}
	return &x.areq.ThreeDSRequestorChallengeInd
}

func run[M any](m M, x *ruleCtx, rules []rule[M]) (names, failed []string) {
	for _, r := range rules {
		if n := r.check(m, x); len(n) > 0 {
			names = append(names, n...)
			failed = append(failed, r.name)
		}
	}
	return names, failed
}

// applyRules runs the rules of m's type. tmpl carries the ids, type and version for the error.
func applyRules(m Message, x *ruleCtx, tmpl *Error) error {
	var names, failed []string
	switch m := m.(type) {
	case *AReq:
		names, failed = run(m, x, areqRules)
	case *ARes:
		names, failed = run(m, x, aresRules)
	case *RReq:
		names, failed = run(m, x, rreqRules)
	case *RRes:
		names, failed = run(m, x, rresRules)
	case *CReq:
		names, failed = run(m, x, creqRules)
	case *CRes:
		names, failed = run(m, x, cresRules)
	case *PRes:
		names, failed = run(m, x, presRules)
	}
	if len(names) == 0 {
		return nil
	}
	e := *tmpl
	e.Code = CodeFormatInvalid
	e.Detail = joinNames(names)
	// The rule names go to the log through Err; the peer sees only the element names.
	e.Err = fmt.Errorf("rules failed: %s", strings.Join(failed, ", "))
	return &e
}

// missing lists the names whose values are empty, in the order given.
func missing(pairs ...string) []string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			out = append(out, pairs[i])
		}
	}
	return out
}

func when(cond bool, names ...string) []string {
	if cond {
		return names
	}
	return nil
}

// versionMatchesAReq: every message of a transaction carries the AReq's version.
func versionMatchesAReq(v string, x *ruleCtx) []string {
	return when(x.areq != nil && x.areq.MessageVersion != "" && v != x.areq.MessageVersion, "messageVersion")
}

var areqRules = []rule[*AReq]{
	{"threeRIIsNonPaymentIn210", func(m *AReq, x *ruleCtx) []string {
		// 2.1.0 knows 3RI only for non-payment; payment 3RI arrives with 2.2.0.
		return when(x.vi == 0 && m.DeviceChannel == Channel3RI && m.MessageCategory == CategoryPayment, "messageCategory")
	}},
	{"decMaxTime", func(m *AReq, x *ruleCtx) []string {
		t := m.ThreeDSRequestorDecMaxTime
		if t == "" {
			return when(m.ThreeDSRequestorDecReqInd == "Y", "threeDSRequestorDecMaxTime")
		}
		n, err := strconv.Atoi(t)
		return when(err != nil || n < 1 || n > 10080, "threeDSRequestorDecMaxTime")
	}},
	{"browserDataWithJavascript", func(m *AReq, x *ruleCtx) []string {
		if x.vi == 0 || x.ch != brw || m.BrowserJavascriptEnabled == nil || !*m.BrowserJavascriptEnabled {
			return nil
		}
		out := when(m.BrowserJavaEnabled == nil, "browserJavaEnabled")
		out = append(out, when(x.vi == 2 && m.BrowserLanguage == "", "browserLanguage")...)
		return append(out, missing("browserColorDepth", m.BrowserColorDepth, "browserScreenHeight", m.BrowserScreenHeight,
			"browserScreenWidth", m.BrowserScreenWidth, "browserTZ", m.BrowserTZ)...)
	}},
	{"recurringData", func(m *AReq, x *ruleCtx) []string {
		// Recurring and instalment payments say until when and how often. 2.3.1 reworks recurring
		// data (recurringInd, recurringDate, …) in ways our sources do not settle, so the rule
		// stops at 2.2.0.
		ind, ri := m.ThreeDSRequestorAuthenticationInd, m.ThreeRIInd
		if x.vi == 2 || !(ind == "02" || ind == "03" || ri == "01" || ri == "02") {
			return nil
		}
		return missing("recurringExpiry", m.RecurringExpiry, "recurringFrequency", m.RecurringFrequency)
	}},
	{"instalmentData", func(m *AReq, x *ruleCtx) []string {
		if m.PurchaseInstalData != "" {
			n, err := strconv.Atoi(m.PurchaseInstalData)
			return when(err != nil || n < 2, "purchaseInstalData") // an instalment plan has 2 or more
		}
		return when(m.ThreeDSRequestorAuthenticationInd == "03" || m.ThreeRIInd == "02", "purchaseInstalData")
	}},
	{"payTokenSource", func(m *AReq, x *ruleCtx) []string {
		return when(x.vi > 0 && m.PayTokenInd != nil && *m.PayTokenInd && m.PayTokenSource == "", "payTokenSource")
	}},
	{"listStatusSource", func(m *AReq, x *ruleCtx) []string {
		out := append(when(m.WhiteListStatus != "" && m.WhiteListStatusSource == "", "whiteListStatusSource"),
			when(m.TrustListStatus != "" && m.TrustListStatusSource == "", "trustListStatusSource")...)
		return append(out, when(m.DeviceBindingStatus != "" && m.DeviceBindingStatusSource == "", "deviceBindingStatusSource")...)
	}},
	// A FIDO login (threeDSReqAuthMethod 06 or 07) carries its WebAuthn assertion in
	// threeDSReqAuthData, in the encodings webauthn.go describes; other methods keep the
	// dictionary's rule (any string of up to 20000 characters).
	{"fidoAuthData", func(m *AReq, x *ruleCtx) []string {
		if OpaqueFIDOAuthData() {
			return nil
		}
		for _, info := range m.ThreeDSRequestorAuthenticationInfo.Items {
			if !IsFIDOMethod(info.ThreeDSReqAuthMethod) {
				continue
			}
			if _, err := ParseWebAuthnAssertion(info.ThreeDSReqAuthData); err != nil {
				return []string{"threeDSRequestorAuthenticationInfo.threeDSReqAuthData"}
			}
		}
		return nil
	}},
	// Secure Payment Confirmation is a browser API: an app or 3RI AReq that says its requestor
	// supports SPC, or that SPC did not complete, contradicts itself [our reading].
	{"spcOnBrowser", func(m *AReq, x *ruleCtx) []string {
		if x.ch == brw || x.ch == anyCh {
			return nil
		}
		return append(when(m.ThreeDSRequestorSpcSupport != "", "threeDSRequestorSpcSupport"),
			when(m.SpcIncompInd != "", "spcIncompInd")...)
	}},
	// Each seller of sellerInfo is named, by sellerName or sellerId [our choice]: a seller the
	// issuer cannot tell apart from another is no information.
	{"sellerIdentified", func(m *AReq, x *ruleCtx) []string {
		for _, s := range m.SellerInfo {
			if s.SellerName == "" && s.SellerID == "" {
				return []string{"sellerInfo.sellerName"}
			}
		}
		return nil
	}},
	// payeeOrigin names the web origin SPC shows as the payee: an https origin, no path or query.
	{"payeeOrigin", func(m *AReq, x *ruleCtx) []string {
		return when(m.PayeeOrigin != "" && !IsOrigin(m.PayeeOrigin), "payeeOrigin")
	}},
	// sdkType 01 (default SDK) comes with defaultSdkType and 02 (split SDK) with splitSdkType; the
	// other object, or either without an sdkType, contradicts it.
	// A DS-reserved sdkType (80–99) is the scheme's to describe, so it is left alone.
	{"sdkTypeObject", func(m *AReq, x *ruleCtx) []string {
		hasDef, hasSplit := m.DefaultSDKType != nil, m.SplitSDKType != nil
		switch m.SDKType {
		case "01":
			return append(when(!hasDef, "defaultSdkType"), when(hasSplit, "splitSdkType")...)
		case "02":
			return append(when(hasDef, "defaultSdkType"), when(!hasSplit, "splitSdkType")...)
		case "":
			return append(when(hasDef, "defaultSdkType"), when(hasSplit, "splitSdkType")...)
		}
		return nil
	}},
}
