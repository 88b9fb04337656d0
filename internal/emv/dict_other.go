package emv

// The preparation messages (PROTOCOL.md §1.3) and the Erro (§2.9).

var preqElements = join(
	header(uuid("threeDSServerTransID", allV, always)),
	[]element{
		{name: "threeDSServerRefNumber", in: allV, req: always, f: fAN, max: 32},
		{name: "threeDSServerOperatorID", in: allV, f: fAN, max: 32},
		{name: "serialNum", in: allV, f: fAN, max: 20},
	},
	extensions(),
)

var presElements = join(
	header(
		uuid("threeDSServerTransID", allV, always),
		uuid("dsTransID", allV, always),
	),
	[]element{
		// serialNum is required of a PRes: the 3DS Server needs it to ask for changes next time [P].
		{name: "serialNum", in: allV, req: always, f: fAN, max: 20},
		{name: "dsStartProtocolVersion", in: allV, req: always, f: fVersion},
		{name: "dsEndProtocolVersion", in: allV, req: always, f: fVersion},
		// A PRes with no changes since serialNum leaves cardRangeData out rather than send [].
		{name: "cardRangeData", in: allV, f: fArray, min: 1, item: arrayOf(element{f: fObject, sub: cardRange})},
	},
	extensions(),
)

// cardRange is one cardRangeData item. The range ends are PAN prefixes padded to full length, so they
// are as long as a card number; their order is the rule cardRanges.
var cardRange = []element{
	{name: "startRange", in: allV, req: always, f: fN, min: 13, max: 19},
	{name: "endRange", in: allV, req: always, f: fN, min: 13, max: 19},
	// actionInd defaults to A (add) when absent.
	{name: "actionInd", in: allV, f: fAN, enum: codes("A,D,M")},
	{name: "acsStartProtocolVersion", in: allV, req: always, f: fVersion},
	{name: "acsEndProtocolVersion", in: allV, req: always, f: fVersion},
	{name: "dsStartProtocolVersion", in: allV, f: fVersion},
	{name: "dsEndProtocolVersion", in: allV, f: fVersion},
	{name: "threeDSMethodURL", in: allV, f: fURL, max: 256},
	// acsInfoInd arrives with 2.2.0.
	{name: "acsInfoInd", in: from220, f: fArray, min: 1,
		item: arrayOf(element{f: fN, min: 2, max: 2, enum: codes("01-04,80-99")})},
}

var erroElements = join(
	header(
		// threeDSServerTransID is required up to 2.2.0 and optional in 2.3.1, which lets an Erro
		// answer a message whose ids were unreadable.
		uuid("threeDSServerTransID", allV, req(upTo220, anyCh, anyCat)),
		uuid("acsTransID", allV, optional),
		uuid("dsTransID", allV, optional),
		uuid("sdkTransID", allV, optional),
	),
	[]element{
		{name: "errorCode", in: allV, req: always, f: fN, min: 3, max: 3, enum: codes(
			"101-103,201-204,301-307,402-405",
			"101-103,201-204,301-307,402-405",
			"101-103,201-207,301-315,402-405")},
		{name: "errorComponent", in: allV, req: always, f: fAN, enum: codes("C,S,D,A")},
		{name: "errorDescription", in: allV, req: always, f: fAN, max: 2048},
		{name: "errorDetail", in: allV, req: always, f: fAN, max: 2048},
		{name: "errorMessageType", in: allV, req: req(v231, anyCh, anyCat), f: fAN, enum: messageTypeList},
	},
	extensions(),
)
