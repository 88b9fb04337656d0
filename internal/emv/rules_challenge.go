package emv

import (
	"strconv"
	"strings"
)

// Rules of the challenge messages (PROTOCOL.md §2.4, §2.5) and of the PRes (§1.3).

var creqRules = []rule[*CReq]{
	{"versionMatchesAReq", func(m *CReq, x *ruleCtx) []string { return versionMatchesAReq(m.MessageVersion, x) }},
	{"noEntryExcludesDataEntry", func(m *CReq, x *ruleCtx) []string {
		// challengeNoEntry Y says the cardholder submitted nothing, so there is nothing to carry.
		return when(m.ChallengeNoEntry == "Y" && m.ChallengeDataEntry != "", "challengeDataEntry")
	}},
}

var cresRules = []rule[*CRes]{
	{"versionMatchesAReq", func(m *CRes, x *ruleCtx) []string { return versionMatchesAReq(m.MessageVersion, x) }},
	{"browserCResIsFinal", func(m *CRes, x *ruleCtx) []string {
		// The browser sees one CRes, the last; the screens in between are the ACS's own pages.
		return when(x.ch == brw && m.ChallengeCompletionInd != "Y", "challengeCompletionInd")
	}},
	{"finalCResHasStatus", func(m *CRes, x *ruleCtx) []string {
		return when(m.ChallengeCompletionInd == "Y" && m.TransStatus == "", "transStatus")
	}},
	{"decoupledFallbackAllowed", func(m *CRes, x *ruleCtx) []string {
		// A CRes D answers only a requestor that allowed decoupled as a fallback (F or B).
		if m.TransStatus != "D" || x.areq == nil {
			return nil
		}
		ind := x.areq.ThreeDSRequestorDecReqInd
		return when(ind != "F" && ind != "B", "transStatus")
	}},
	{"cresScreen", cresScreen},
}

// cresScreen: an app CRes that is not final describes the next screen, and acsUiType says which elements
// that screen needs.
func cresScreen(m *CRes, x *ruleCtx) []string {
	if x.ch != app || m.ChallengeCompletionInd != "N" {
		return nil
	}
	switch m.ACSUiType {
	case "":
		return []string{"acsUiType"}
	case "01", "02", "03":
		out := missing("challengeInfoHeader", m.ChallengeInfoHeader, "challengeInfoLabel", m.ChallengeInfoLabel,
			"challengeInfoText", m.ChallengeInfoText)
		if m.ACSUiType != "01" {
			out = append(out, when(len(m.ChallengeSelectInfo) == 0, "challengeSelectInfo")...)
		}
		return append(out, missing("submitAuthenticationLabel", m.SubmitAuthenticationLabel)...)
	case "04":
		return missing("challengeInfoHeader", m.ChallengeInfoHeader, "challengeInfoText", m.ChallengeInfoText,
			"oobContinueLabel", m.OOBContinueLabel)
	case "05":
		return missing("acsHTML", m.ACSHTML)
	}
	return nil
}

var presRules = []rule[*PRes]{
	{"cardRanges", func(m *PRes, x *ruleCtx) []string {
		// Range ends are compared as numbers of equal length, which a string comparison does.
		for _, r := range m.CardRangeData {
			if len(r.StartRange) != len(r.EndRange) || r.StartRange > r.EndRange {
				return []string{"cardRangeData.startRange", "cardRangeData.endRange"}
			}
		}
		return nil
	}},
	{"protocolVersionOrder", func(m *PRes, x *ruleCtx) []string {
		out := when(versionAfter(m.DSStartProtocolVersion, m.DSEndProtocolVersion),
			"dsStartProtocolVersion", "dsEndProtocolVersion")
		for _, r := range m.CardRangeData {
			if versionAfter(r.ACSStartProtocolVersion, r.ACSEndProtocolVersion) {
				out = append(out, "cardRangeData.acsStartProtocolVersion", "cardRangeData.acsEndProtocolVersion")
			}
			if versionAfter(r.DSStartProtocolVersion, r.DSEndProtocolVersion) {
				out = append(out, "cardRangeData.dsStartProtocolVersion", "cardRangeData.dsEndProtocolVersion")
			}
		}
		return out
	}},
}

// versionAfter reports whether dotted version a is later than b; either one absent is never out of order.
func versionAfter(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return CompareVersions(a, b) > 0
}

// CompareVersions orders two dotted protocol versions part by part as numbers, so that 2.10.0 comes
// after 2.9.0. It returns -1, 0 or +1. A part that is not a number counts as 0.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
