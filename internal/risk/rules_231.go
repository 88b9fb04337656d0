package risk

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
)

// The rules on the data 2.2.0 and 2.3.1 added: the requestor's FIDO login, trust lists, device
// binding, marketplaces and multi-transactions, the payee's origin and the buyer's tax id. Each
// reads only what the AReq says; the protocol package has checked its shape already.

// fidoLogin lowers the risk when the requestor logged the cardholder in with a FIDO authenticator
// that verified the user (the UV flag: a biometric or a PIN, not just a touch), within N minutes
// of the decision, on the requestor's own site: the origin of the WebAuthn assertion is the host
// of threeDSRequestorURL or payeeOrigin, or a subdomain of one or the other (an app's login is
// taken as the app's). The ACS cannot verify the assertion's signature, which needs the
// requestor's credential key, so this is the requestor's word backed by a well-formed assertion,
// and weighs as the policy says. A login stamped up to five minutes after the decision is taken
// as clock skew; later, or without Input.Now, the rule stays silent.
func fidoLogin(c *ruleConfig, v *view, r *Reason) bool {
	if v.now.IsZero() || emv.OpaqueFIDOAuthData() {
		return false
	}
	for _, info := range v.a.ThreeDSRequestorAuthenticationInfo.Items {
		if !emv.IsFIDOMethod(info.ThreeDSReqAuthMethod) {
			continue
		}
		t, err := time.Parse("200601021504", info.ThreeDSReqAuthTimestamp)
		if err != nil {
			continue
		}
		ago := v.now.Sub(t)
		if ago < -5*time.Minute || ago > time.Duration(c.N)*time.Minute {
			continue
		}
		a, err := emv.ParseWebAuthnAssertion(info.ThreeDSReqAuthData)
		if err != nil || !a.UserVerified() || !loginOriginFits(a.Origin, v) {
			continue
		}
		when := "just before"
		if m := int64(max(ago, 0) / time.Minute); m == 1 {
			when = "1 minute before"
		} else if m > 1 {
			when = itoa(m) + " minutes before"
		}
		return fire(r, "FIDO login with user verification "+when, "")
	}
	return false
}

// loginOriginFits reports whether a FIDO login at origin took place on the requestor's side.
func loginOriginFits(origin string, v *view) bool {
	if strings.HasPrefix(origin, "android:apk-key-hash:") {
		return v.a.DeviceChannel == emv.ChannelApp
	}
	host := hostOf(origin)
	return host != "" && (sameSite(host, hostOf(v.a.ThreeDSRequestorURL)) || sameSite(host, hostOf(v.a.PayeeOrigin)))
}

// hostOf is the lower-case host name of an absolute URL, or "".
func hostOf(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// sameSite reports whether two hosts are the same or one is a subdomain of the other
// (www.shop.example and shop.example). It is deliberately narrower than a registrable-domain
// match: pay.example and shop.example are two sites.
func sameSite(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a)
}

var sourceNames = map[string]string{"01": "the 3DS Server", "02": "the DS", "03": "the ACS"}

func sourceName(code string) string {
	if n, ok := sourceNames[code]; ok {
		return n
	}
	return "source " + code
}

// trustList lowers the risk when the merchant is on the cardholder's trust list (2.3.1
// trustListStatus Y, 2.2.0 whiteListStatus Y), as reported by one of the sources the policy
// trusts: an issuer may count only its own ACS's (03) or the DS's word.
func trustList(c *ruleConfig, v *view, r *Reason) bool {
	if v.listStatus != "Y" || !slices.Contains(c.List, v.listSource) {
		return false
	}
	return fire(r, "merchant on the cardholder's trust list (reported by "+sourceName(v.listSource)+")", "")
}

// deviceBound lowers the risk when the device is bound to the cardholder (deviceBindingStatus
// 11–15 in our reading), as reported by a source the policy trusts.
func deviceBound(c *ruleConfig, v *view, r *Reason) bool {
	st := v.a.DeviceBindingStatus
	if len(st) != 2 || st[0] != '1' || st[1] < '1' || st[1] > '5' || !slices.Contains(c.List, v.a.DeviceBindingStatusSource) {
		return false
	}
	return fire(r, "device bound to the cardholder (status "+st+", reported by "+sourceName(v.a.DeviceBindingStatusSource)+")", "")
}

// deviceBindingRejected raises the risk when the cardholder refused to bind this device
// (deviceBindingStatus 04): someone who uses the card on a device but will not tie it to the
// cardholder is worth a second look. Not bound (01), not eligible (02), pending (03) and unknown
// (05) say nothing either way.
func deviceBindingRejected(_ *ruleConfig, v *view, r *Reason) bool {
	if v.a.DeviceBindingStatus != "04" {
		return false
	}
	return fire(r, "the cardholder rejected binding this device (status 04)", "")
}

// manySellers raises the risk of a marketplace basket spread over more than N sellers (sellerInfo
// or multiTransaction's merchantList, whichever lists more): a pattern of testing a card on many
// small shops at once.
func manySellers(c *ruleConfig, v *view, r *Reason) bool {
	if int64(v.sellers) <= c.N {
		return false
	}
	return fire(r, itoa(int64(v.sellers))+" sellers in one purchase", "")
}

// reusableAV raises the risk when the requestor asks for an authentication value usable more
// than N times (multiTransaction avNumberUse): one authentication then covers payments the
// cardholder did not see one by one.
func reusableAV(c *ruleConfig, v *view, r *Reason) bool {
	mt := v.a.MultiTransaction
	if mt == nil {
		return false
	}
	n, ok := atoi(mt.AVNumberUse)
	if !ok || n <= c.N {
		return false
	}
	text := "authentication value usable " + itoa(n) + " times"
	if days, ok := atoi(mt.AVValidityTime); ok && days > 0 {
		text += " over " + itoa(days) + " days"
	}
	return fire(r, text, "")
}

// payeeOrigin names a payee whose web origin is another site than the requestor's: a payment
// facilitator or marketplace paying out elsewhere, which an analyst wants to see.
func payeeOrigin(_ *ruleConfig, v *view, r *Reason) bool {
	if v.a.PayeeOrigin == "" {
		return false
	}
	payee, req := hostOf(v.a.PayeeOrigin), hostOf(v.a.ThreeDSRequestorURL)
	if payee == "" || req == "" || sameSite(payee, req) {
		return false
	}
	return fire(r, "payee origin "+payee+" differs from the requestor's site "+req, "")
}

// businessPurchase lowers the risk a little when the requestor gives the buyer's tax id (taxId,
// 2.3.1): a business purchase by an identified company, which card-testing rarely bothers with.
func businessPurchase(_ *ruleConfig, v *view, r *Reason) bool {
	if v.a.TaxID == "" {
		return false
	}
	return fire(r, "business purchase: the requestor gave the buyer's tax id", "")
}
