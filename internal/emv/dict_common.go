package emv

// Entries and value lists that several message types share. Where our sources disagree or are silent, the
// comment next to an entry says what we chose; [P] and [U] are PROTOCOL.md's confidence tags.

// Value lists used by more than one table.
var (
	yesNo = codes("Y,N")

	// transStatusReason: 01–21 in 2.1.0, 01–26 in 2.2.0, 01–30 in 2.3.1, and the DS range.
	transStatusReasons = codes("01-21,80-99", "01-26,80-99", "01-30,80-99")

	// authenticationType: 04 (decoupled) exists from 2.2.0 on; 2.3.1 replaces the element.
	authenticationTypes = codes("01-03,80-99", "01-04,80-99", "01-04,80-99")

	// authenticationMethod (2.3.1): 01–16; we also admit the DS range, as for every other code list.
	authenticationMethods = codes("01-16,80-99")

	// challengeCancel: 02 is reserved everywhere; 03 arrives with decoupled authentication in 2.2.0,
	// 09 and 10 with 2.3.1.
	challengeCancels = codes("01,04-08", "01,03-08", "01,03-10")

	// The statuses the ACS reports for a trust (white) list; a requestor may send only Y or N.
	listStatuses    = codes("Y,N,E,P,R,U")
	listSources     = codes("01-03,80-99")
	uiTypes         = codes("01-05", "01-05", "01-07") // 2.3.1 adds 06 and 07 [meanings U]
	messageTypeList = codes("AReq,ARes,CReq,CRes,PReq,PRes,RReq,RRes,Erro")
)

// Version-split entries shared by the ARes and the RReq.
var (
	// authenticationValue is 28 characters of standard base64 (20 bytes) up to 2.2.0 and a string of up
	// to 4000 characters in 2.3.1.
	authValue210 = element{name: "authenticationValue", in: upTo220, f: fBase64, min: 28, max: 28}
	authValue231 = element{name: "authenticationValue", in: v231, f: fAN, max: 4000}

	authType   = element{name: "authenticationType", in: upTo220, f: fN, min: 2, max: 2, enum: authenticationTypes}
	authMethod = element{name: "authenticationMethod", in: v231, f: fArray, min: 1,
		item: arrayOf(element{f: fN, min: 2, max: 2, enum: authenticationMethods})}

	eci = element{name: "eci", in: allV, f: fN, min: 2, max: 2}

	// cardholderInfo: text up to 2.2.0, an object with the text and two image URLs in 2.3.1.
	cardholderInfo210 = element{name: "cardholderInfo", in: upTo220, f: fAN, max: 128}
	cardholderInfo231 = element{name: "cardholderInfo", in: v231, f: fObject, sub: []element{
		{name: "text", in: allV, req: always, f: fAN, max: 128},
		{name: "issuerImage", in: allV, f: fHTTPS, max: 2048},
		{name: "paymentSystemImage", in: allV, f: fHTTPS, max: 2048},
	}}

	acsRenderingType = element{name: "acsRenderingType", in: allV, f: fObject, sub: []element{
		{name: "acsInterface", in: allV, req: always, f: fN, min: 2, max: 2, enum: codes("01,02")},
		{name: "acsUiTemplate", in: allV, req: always, f: fN, min: 2, max: 2, enum: uiTypes},
		// deviceUserInterfaceMode is new in 2.3.1; its value list is not in our sources [U],
		// so we check only that it is a two-digit code.
		{name: "deviceUserInterfaceMode", in: v231, f: fN, min: 2, max: 2},
	}}
)

// extensionItem is one messageExtension entry. All four members are required; data is an object of at
// most 8059 characters.
var extensionItem = element{f: fObject, sub: []element{
	{name: "name", in: allV, req: always, f: fAN, max: 64},
	{name: "id", in: allV, req: always, f: fAN, max: 64},
	{name: "criticalityIndicator", in: allV, req: always, f: fBool},
	{name: "data", in: allV, req: always, f: fAnyObject, max: 8059},
}}

// extensions is the messageExtension element of every message: at most 10 entries, 15 in 2.3.1, and
// never an empty array (blank values are refused by the walker).
func extensions() []element {
	return []element{
		{name: "messageExtension", in: upTo220, f: fExtensions, min: 1, max: 10, item: &extensionItem},
		{name: "messageExtension", in: v231, f: fExtensions, min: 1, max: 15, item: &extensionItem},
	}
}

// header is the start of every table: type and version (already vetted before the walk, listed so that
// the dictionary is complete) and the transaction ids with their presence.
func header(ids ...element) []element {
	h := []element{
		{name: "messageType", in: allV, req: always, f: fAN},
		{name: "messageVersion", in: allV, req: always, f: fAN},
	}
	return append(h, ids...)
}

func uuid(name string, in vset, r need) element {
	return element{name: name, in: in, req: r, f: fUUID}
}

// join concatenates table parts, so a table can be written as its sections.
func join(parts ...[]element) []element {
	var out []element
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
