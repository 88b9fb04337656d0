package risk

import (
	"slices"
	"strconv"
	"time"
)

// ruleConfig is one rule as a policy configures it. N is the rule's one numeric threshold (its
// name is ruleDef.param) and List its one list (ruleDef.list); rules without them ignore them.
type ruleConfig struct {
	On     bool
	Points int
	N      int64
	List   []string
}

// ruleDef is a rule the engine knows, with its YAML vocabulary and built-in configuration.
type ruleDef struct {
	name      string
	param     string // the YAML key of N, or ""
	list      string // the YAML key of List, or ""
	exemption bool   // lowers the score but never rescues a denial
	def       ruleConfig
}

// ruleID names a rule by its place in ruleDefs, which is also the evaluation order.
type ruleID int

const (
	ruleHighAmount ruleID = iota
	ruleLargeAmount
	ruleNewDevice
	ruleNoDeviceData
	ruleIPMismatch
	ruleBrowserTimeZone
	ruleVelocityHour
	ruleVelocityDay
	ruleFailedChallenges
	ruleAccountVelocity
	ruleAccountVelocityYear
	ruleProvisioningAttempts
	ruleSuspiciousAccount
	ruleNewAccount
	rulePasswordChanged
	ruleNewShipAddress
	ruleAddressMismatch
	ruleShipCountryMismatch
	ruleBillingCountryMismatch
	ruleCrossBorder
	ruleRiskyMCC
	ruleGiftCards
	ruleDigitalDelivery
	rulePreOrder
	ruleReorder
	ruleEstablishedAccount
	rulePriorAuthentication
	ruleRecurring
	ruleExemption
	ruleDeviceIntegrity
	ruleLocaleIPCountry
	ruleFIDOLogin
	ruleTrustList
	ruleDeviceBound
	ruleDeviceBindingRejected
	ruleManySellers
	ruleReusableAV
	rulePayeeOrigin
	ruleBusinessPurchase
	numRules // the number of rules; policies hold their configuration in an array this long
)

// ruleDefs lists every rule in evaluation order, with the built-in default configuration. The
// default policy (DefaultSet) turns all of them on with these values; README.md explains each.
var ruleDefs = [numRules]ruleDef{
	ruleHighAmount:             {name: "high_amount", param: "multiple_of_usual", def: ruleConfig{On: true, Points: 350, N: 5}},
	ruleLargeAmount:            {name: "large_amount", param: "over", def: ruleConfig{On: true, Points: 150, N: 2000}},
	ruleNewDevice:              {name: "new_device", def: ruleConfig{On: true, Points: 150}},
	ruleNoDeviceData:           {name: "no_device_data", def: ruleConfig{On: true, Points: 50}},
	ruleIPMismatch:             {name: "ip_mismatch", def: ruleConfig{On: true, Points: 100}},
	ruleBrowserTimeZone:        {name: "browser_time_zone", def: ruleConfig{On: true, Points: 50}},
	ruleVelocityHour:           {name: "velocity_hour", param: "over", def: ruleConfig{On: true, Points: 350, N: 3}},
	ruleVelocityDay:            {name: "velocity_day", param: "over", def: ruleConfig{On: true, Points: 200, N: 10}},
	ruleFailedChallenges:       {name: "failed_challenges", param: "over", def: ruleConfig{On: true, Points: 350, N: 2}},
	ruleAccountVelocity:        {name: "account_velocity", param: "over", def: ruleConfig{On: true, Points: 150, N: 5}},
	ruleAccountVelocityYear:    {name: "account_velocity_year", param: "over", def: ruleConfig{On: true, Points: 100, N: 150}},
	ruleProvisioningAttempts:   {name: "provisioning_attempts", param: "over", def: ruleConfig{On: true, Points: 200, N: 2}},
	ruleSuspiciousAccount:      {name: "suspicious_account", def: ruleConfig{On: true, Points: 350}},
	ruleNewAccount:             {name: "new_account", def: ruleConfig{On: true, Points: 100}},
	rulePasswordChanged:        {name: "password_changed", def: ruleConfig{On: true, Points: 100}},
	ruleNewShipAddress:         {name: "new_ship_address", def: ruleConfig{On: true, Points: 100}},
	ruleAddressMismatch:        {name: "address_mismatch", def: ruleConfig{On: true, Points: 50}},
	ruleShipCountryMismatch:    {name: "ship_country_mismatch", def: ruleConfig{On: true, Points: 200}},
	ruleBillingCountryMismatch: {name: "billing_country_mismatch", def: ruleConfig{On: true, Points: 150}},
	ruleCrossBorder:            {name: "cross_border", def: ruleConfig{On: true, Points: 50}},
	ruleRiskyMCC: {name: "risky_mcc", list: "mccs", def: ruleConfig{On: true, Points: 150,
		List: []string{"4829", "5967", "6051", "6540", "7995"}}},
	ruleGiftCards:           {name: "gift_cards", param: "over", def: ruleConfig{On: true, Points: 200, N: 0}},
	ruleDigitalDelivery:     {name: "digital_delivery", def: ruleConfig{On: true, Points: 50}},
	rulePreOrder:            {name: "pre_order", def: ruleConfig{On: true, Points: 30}},
	ruleReorder:             {name: "reorder", def: ruleConfig{On: true, Points: -50}},
	ruleEstablishedAccount:  {name: "established_account", def: ruleConfig{On: true, Points: -50}},
	rulePriorAuthentication: {name: "prior_authentication", param: "within_days", def: ruleConfig{On: true, Points: -100, N: 90}},
	ruleRecurring:           {name: "recurring", def: ruleConfig{On: true, Points: -100}},
	ruleExemption:           {name: "exemption", exemption: true, def: ruleConfig{On: true, Points: -150}},
	ruleDeviceIntegrity:     {name: "device_integrity", def: ruleConfig{On: true, Points: 300}},
	ruleLocaleIPCountry:     {name: "locale_ip_country", def: ruleConfig{On: true, Points: 100}},
	// The 2.3.1 elements (rules_231.go).
	ruleFIDOLogin: {name: "fido_login", param: "within_minutes", def: ruleConfig{On: true, Points: -200, N: 15}},
	ruleTrustList: {name: "trust_list", list: "sources", def: ruleConfig{On: true, Points: -100,
		List: []string{"01", "02", "03"}}},
	ruleDeviceBound: {name: "device_bound", list: "sources", def: ruleConfig{On: true, Points: -100,
		List: []string{"01", "02", "03"}}},
	ruleDeviceBindingRejected: {name: "device_binding_rejected", def: ruleConfig{On: true, Points: 100}},
	ruleManySellers:           {name: "many_sellers", param: "over", def: ruleConfig{On: true, Points: 100, N: 5}},
	ruleReusableAV:            {name: "reusable_av", param: "over", def: ruleConfig{On: true, Points: 100, N: 2}},
	rulePayeeOrigin:           {name: "payee_origin", def: ruleConfig{On: true, Points: 50}},
	ruleBusinessPurchase:      {name: "business_purchase", def: ruleConfig{On: true, Points: -50}},
}

// evalRule reports whether rule id fires and, when it does, fills the reason's Text and
// TransStatusReason; the caller fills Rule and Points. It is a switch rather than a function
// field in ruleDefs because a call through a function value makes the compiler move the
// evaluation's buffers to the heap.
func evalRule(id ruleID, c *ruleConfig, v *view, r *Reason) bool {
	switch id {
	case ruleHighAmount:
		return highAmount(c, v, r)
	case ruleLargeAmount:
		return largeAmount(c, v, r)
	case ruleNewDevice:
		return newDevice(c, v, r)
	case ruleNoDeviceData:
		return noDeviceData(c, v, r)
	case ruleIPMismatch:
		return ipMismatch(c, v, r)
	case ruleBrowserTimeZone:
		return browserTimeZone(c, v, r)
	case ruleVelocityHour:
		return velocityHour(c, v, r)
	case ruleVelocityDay:
		return velocityDay(c, v, r)
	case ruleFailedChallenges:
		return failedChallenges(c, v, r)
	case ruleAccountVelocity:
		return accountVelocity(c, v, r)
	case ruleAccountVelocityYear:
		return accountVelocityYear(c, v, r)
	case ruleProvisioningAttempts:
		return provisioning(c, v, r)
	case ruleSuspiciousAccount:
		return suspiciousAccount(c, v, r)
	case ruleNewAccount:
		return newAccount(c, v, r)
	case rulePasswordChanged:
		return passwordChanged(c, v, r)
	case ruleNewShipAddress:
		return newShipAddress(c, v, r)
	case ruleAddressMismatch:
		return addressMismatch(c, v, r)
	case ruleShipCountryMismatch:
		return shipCountryMismatch(c, v, r)
	case ruleBillingCountryMismatch:
		return billingCountryMismatch(c, v, r)
	case ruleCrossBorder:
		return crossBorder(c, v, r)
	case ruleRiskyMCC:
		return riskyMCC(c, v, r)
	case ruleGiftCards:
		return giftCards(c, v, r)
	case ruleDigitalDelivery:
		return digitalDelivery(c, v, r)
	case rulePreOrder:
		return preOrder(c, v, r)
	case ruleReorder:
		return reorder(c, v, r)
	case ruleEstablishedAccount:
		return establishedAccount(c, v, r)
	case rulePriorAuthentication:
		return priorAuthentication(c, v, r)
	case ruleRecurring:
		return recurring(c, v, r)
	case ruleExemption:
		return exemption(c, v, r)
	case ruleDeviceIntegrity:
		return deviceIntegrity(c, v, r)
	case ruleLocaleIPCountry:
		return localeIPCountry(c, v, r)
	case ruleFIDOLogin:
		return fidoLogin(c, v, r)
	case ruleTrustList:
		return trustList(c, v, r)
	case ruleDeviceBound:
		return deviceBound(c, v, r)
	case ruleDeviceBindingRejected:
		return deviceBindingRejected(c, v, r)
	case ruleManySellers:
		return manySellers(c, v, r)
	case ruleReusableAV:
		return reusableAV(c, v, r)
	case rulePayeeOrigin:
		return payeeOrigin(c, v, r)
	case ruleBusinessPurchase:
		return businessPurchase(c, v, r)
	}
	return false
}

// ruleIndex finds a rule by name, or -1.
func ruleIndex(name string) int {
	for i := range ruleDefs {
		if ruleDefs[i].name == name {
			return i
		}
	}
	return -1
}

func fire(r *Reason, text, code string) bool {
	r.Text, r.TransStatusReason = text, code
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func highAmount(c *ruleConfig, v *view, r *Reason) bool {
	usual := v.f.UsualAmountMax
	if usual <= 0 || v.amount < 0 || c.N <= 0 {
		return false
	}
	// amount ≥ N×usual, written as a division so that a huge usual amount cannot overflow.
	ratio := v.amount / usual
	if ratio < c.N {
		return false
	}
	return fire(r, "amount "+itoa(ratio)+"x above the card's usual", "")
}

func largeAmount(c *ruleConfig, v *view, r *Reason) bool {
	if v.amount < 0 || c.N > (1<<63-1)/pow10(v.exp) {
		return false
	}
	if v.amount <= c.N*pow10(v.exp) {
		return false
	}
	return fire(r, "amount above the limit of "+itoa(c.N)+" (major units)", "")
}

func newDevice(_ *ruleConfig, v *view, r *Reason) bool {
	if v.threeRI || v.f.DeviceKnown {
		return false
	}
	return fire(r, "new device", reasonUnknownDevice)
}

func noDeviceData(_ *ruleConfig, v *view, r *Reason) bool {
	if v.threeRI || v.f.HasDeviceData {
		return false
	}
	return fire(r, "no device data from the 3DS Method or SDK", "")
}

func ipMismatch(_ *ruleConfig, v *view, r *Reason) bool {
	ip := v.a.BrowserIP
	if ip == "" {
		ip = v.a.AppIP
	}
	if v.threeRI || ip == "" || v.f.DeviceIP == "" || ip == v.f.DeviceIP {
		return false
	}
	return fire(r, "browser IP differs from the one the 3DS Method saw", "")
}

func velocityHour(c *ruleConfig, v *view, r *Reason) bool {
	if int64(v.f.TxLastHour) <= c.N {
		return false
	}
	return fire(r, itoa(int64(v.f.TxLastHour))+" authentications in the last hour", reasonFrequency)
}

func velocityDay(c *ruleConfig, v *view, r *Reason) bool {
	if int64(v.f.TxLastDay) <= c.N {
		return false
	}
	return fire(r, itoa(int64(v.f.TxLastDay))+" authentications in the last day", reasonFrequency)
}

func failedChallenges(c *ruleConfig, v *view, r *Reason) bool {
	if int64(v.f.FailedChallenges24h) <= c.N {
		return false
	}
	return fire(r, itoa(int64(v.f.FailedChallenges24h))+" failed challenges in the last 24 hours", reasonSuspectedFraud)
}

func accountVelocity(c *ruleConfig, v *view, r *Reason) bool {
	n, ok := atoi(v.acct.TxnActivityDay)
	if !ok || n <= c.N {
		return false
	}
	return fire(r, itoa(n)+" purchases on the requestor account in the last day", reasonFrequency)
}

func accountVelocityYear(c *ruleConfig, v *view, r *Reason) bool {
	n, ok := atoi(v.acct.TxnActivityYear)
	if !ok || n <= c.N {
		return false
	}
	return fire(r, itoa(n)+" purchases on the requestor account in the last year", reasonFrequency)
}

func provisioning(c *ruleConfig, v *view, r *Reason) bool {
	n, ok := atoi(v.acct.ProvisionAttemptsDay)
	if !ok || n <= c.N {
		return false
	}
	return fire(r, itoa(n)+" attempts to add a card to the requestor account in the last day", reasonSuspectedFraud)
}

func suspiciousAccount(_ *ruleConfig, v *view, r *Reason) bool {
	if v.acct.SuspiciousAccActivity != "02" {
		return false
	}
	return fire(r, "suspicious activity on the requestor account", reasonSuspectedFraud)
}

func newAccount(_ *ruleConfig, v *view, r *Reason) bool {
	switch v.acct.ChAccAgeInd {
	case "02":
		return fire(r, "requestor account created during this transaction", "")
	case "03":
		return fire(r, "requestor account less than 30 days old", "")
	}
	return false
}

func passwordChanged(_ *ruleConfig, v *view, r *Reason) bool {
	switch v.acct.ChAccPwChangeInd {
	case "02":
		return fire(r, "account password changed during this transaction", "")
	case "03":
		return fire(r, "account password changed in the last 30 days", "")
	}
	return false
}

func newShipAddress(_ *ruleConfig, v *view, r *Reason) bool {
	if v.acct.ShipAddressUsageInd != "01" {
		return false
	}
	return fire(r, "shipping address used for the first time", "")
}

func addressMismatch(_ *ruleConfig, v *view, r *Reason) bool {
	if v.a.AddrMatch != "N" {
		return false
	}
	return fire(r, "shipping address differs from the billing address", "")
}

func shipCountryMismatch(_ *ruleConfig, v *view, r *Reason) bool {
	bill, ship := v.a.BillAddrCountry, v.a.ShipAddrCountry
	if bill == "" || ship == "" || bill == ship {
		return false
	}
	return fire(r, "shipping country "+ship+" differs from billing country "+bill, "")
}

func billingCountryMismatch(_ *ruleConfig, v *view, r *Reason) bool {
	onFile, given := v.f.BillingCountry, v.a.BillAddrCountry
	if onFile == "" || given == "" || onFile == given {
		return false
	}
	return fire(r, "billing country "+given+" differs from the card's "+onFile, "")
}

func crossBorder(_ *ruleConfig, v *view, r *Reason) bool {
	home, merchant := v.f.BillingCountry, v.a.MerchantCountryCode
	if home == "" || merchant == "" || home == merchant {
		return false
	}
	return fire(r, "merchant country "+merchant+" differs from the card's "+home, "")
}

func riskyMCC(c *ruleConfig, v *view, r *Reason) bool {
	if v.a.MCC == "" || !slices.Contains(c.List, v.a.MCC) {
		return false
	}
	return fire(r, "merchant category "+v.a.MCC+" is on the high-risk list", "")
}

func giftCards(c *ruleConfig, v *view, r *Reason) bool {
	n, _ := atoi(v.mr.GiftCardCount)
	if amt, ok := atoi(v.mr.GiftCardAmount); n == 0 && ok && amt > 0 {
		n = 1 // an amount without a count still means at least one gift card
	}
	if n <= c.N {
		return false
	}
	return fire(r, itoa(n)+" gift card(s) in the purchase", "")
}

func digitalDelivery(_ *ruleConfig, v *view, r *Reason) bool {
	if v.mr.DeliveryTimeframe != "01" && v.mr.ShipIndicator != "05" && v.mr.DeliveryEmailAddress == "" {
		return false
	}
	return fire(r, "delivery by e-mail or download", "")
}

func preOrder(_ *ruleConfig, v *view, r *Reason) bool {
	if v.mr.PreOrderPurchaseInd != "02" {
		return false
	}
	return fire(r, "pre-order of goods not yet available", "")
}

func reorder(_ *ruleConfig, v *view, r *Reason) bool {
	if v.mr.ReorderItemsInd != "02" {
		return false
	}
	return fire(r, "reorder of items bought before", "")
}

func establishedAccount(_ *ruleConfig, v *view, r *Reason) bool {
	if v.acct.ChAccAgeInd != "05" {
		return false
	}
	return fire(r, "requestor account more than 60 days old", "")
}

// priorAuthentication lowers the risk when the ACS itself authenticated this cardholder for the
// requestor recently (prior method 01 frictionless or 02 challenge). Without Input.Now it cannot
// tell "recently", so it stays silent rather than read the clock.
func priorAuthentication(c *ruleConfig, v *view, r *Reason) bool {
	if v.now.IsZero() {
		return false
	}
	for _, p := range v.a.ThreeDSRequestorPriorAuthenticationInfo.Items {
		if p.ThreeDSReqPriorAuthMethod != "01" && p.ThreeDSReqPriorAuthMethod != "02" {
			continue
		}
		t, err := time.Parse("200601021504", p.ThreeDSReqPriorAuthTimestamp)
		if err != nil || t.After(v.now) || v.now.Sub(t) > time.Duration(c.N)*24*time.Hour {
			continue
		}
		return fire(r, "cardholder authenticated by the ACS within the last "+itoa(c.N)+" days", "")
	}
	return false
}

func recurring(_ *ruleConfig, v *view, r *Reason) bool {
	ind := v.a.ThreeDSRequestorAuthenticationInd
	if ind != "02" && ind != "03" && !(v.threeRI && (v.a.ThreeRIInd == "01" || v.a.ThreeRIInd == "02")) {
		return false
	}
	return fire(r, "recurring or instalment payment", "")
}

func exemption(_ *ruleConfig, v *view, r *Reason) bool {
	switch v.exemption {
	case "05":
		return fire(r, "requestor exemption 05: risk analysis already performed", "")
	case "06":
		return fire(r, "requestor exemption 06: data share only", "")
	case "07":
		return fire(r, "requestor exemption 07: strong authentication already performed", "")
	case "08":
		return fire(r, "requestor exemption 08: trusted beneficiary (whitelist)", "")
	}
	return false
}

func deviceIntegrity(_ *ruleConfig, v *view, r *Reason) bool {
	w := v.f.DeviceWarnings
	if w == 0 {
		return false
	}
	text := ""
	for _, k := range warningNames {
		if w&k.bit != 0 {
			if text != "" {
				text += ", "
			}
			text += k.text
		}
	}
	return fire(r, "app device: "+text, reasonSuspectedFraud)
}

// localeIPCountry fires when the device's locale and its IP address name two countries: a device
// set up in one country and used from another is ordinary for a traveller, which is why it weighs
// little alone, but it adds to a new device or an unusual amount.
func localeIPCountry(_ *ruleConfig, v *view, r *Reason) bool {
	l, ip := v.f.LocaleCountry, v.f.IPCountry
	if v.threeRI || l == "" || ip == "" || l == ip {
		return false
	}
	return fire(r, "device locale country "+l+" differs from its IP address's country "+ip, "")
}
