package emv

import "encoding/json"

// AReq is the authentication request (PROTOCOL.md §2.2): the 3DS Server sends it, the DS stamps its own
// fields and forwards it to the ACS. It holds the elements of every supported version; which are valid
// for a given messageVersion, and which are required, is the dictionary's business (dict_areq.go).
type AReq struct {
	MessageType     string `json:"messageType"`
	MessageVersion  string `json:"messageVersion,omitempty"`
	MessageCategory string `json:"messageCategory,omitempty"`
	DeviceChannel   string `json:"deviceChannel,omitempty"`

	// The 3DS Server and the requestor it acts for.
	ThreeDSServerTransID                    string                                             `json:"threeDSServerTransID,omitempty"`
	ThreeDSServerRefNumber                  string                                             `json:"threeDSServerRefNumber,omitempty"`
	ThreeDSServerOperatorID                 string                                             `json:"threeDSServerOperatorID,omitempty"`
	ThreeDSServerURL                        string                                             `json:"threeDSServerURL,omitempty"`
	ThreeDSRequestorID                      string                                             `json:"threeDSRequestorID,omitempty"`
	ThreeDSRequestorName                    string                                             `json:"threeDSRequestorName,omitempty"`
	ThreeDSRequestorURL                     string                                             `json:"threeDSRequestorURL,omitempty"`
	ThreeDSRequestorAuthenticationInd       string                                             `json:"threeDSRequestorAuthenticationInd,omitempty"`
	ThreeDSRequestorAuthenticationInfo      OneOrMany[ThreeDSRequestorAuthenticationInfo]      `json:"threeDSRequestorAuthenticationInfo,omitzero"`
	ThreeDSRequestorChallengeInd            OneOrMany[string]                                  `json:"threeDSRequestorChallengeInd,omitzero"`
	ThreeDSRequestorPriorAuthenticationInfo OneOrMany[ThreeDSRequestorPriorAuthenticationInfo] `json:"threeDSRequestorPriorAuthenticationInfo,omitzero"`
	ThreeDSRequestorDecReqInd               string                                             `json:"threeDSRequestorDecReqInd,omitempty"`
	ThreeDSRequestorDecMaxTime              string                                             `json:"threeDSRequestorDecMaxTime,omitempty"`
	ThreeDSRequestorSpcSupport              string                                             `json:"threeDSRequestorSpcSupport,omitempty"`
	ThreeDSReqAuthMethodInd                 string                                             `json:"threeDSReqAuthMethodInd,omitempty"`
	ThreeRIInd                              string                                             `json:"threeRIInd,omitempty"`
	ThreeDSCompInd                          string                                             `json:"threeDSCompInd,omitempty"`
	ThreeDSMethodID                         string                                             `json:"threeDSMethodId,omitempty"`

	// Acquirer and merchant.
	AcquirerBIN               string        `json:"acquirerBIN,omitempty"`
	AcquirerMerchantID        string        `json:"acquirerMerchantID,omitempty"`
	AcquirerCountryCode       string        `json:"acquirerCountryCode,omitempty"`
	AcquirerCountryCodeSource string        `json:"acquirerCountryCodeSource,omitempty"`
	MCC                       string        `json:"mcc,omitempty"`
	MerchantCountryCode       string        `json:"merchantCountryCode,omitempty"`
	MerchantName              string        `json:"merchantName,omitempty"`
	MerchantRiskIndicator     *MerchantRisk `json:"merchantRiskIndicator,omitempty"`
	PayeeOrigin               string        `json:"payeeOrigin,omitempty"`
	SellerInfo                []SellerInfo  `json:"sellerInfo,omitempty"`
	TaxID                     string        `json:"taxId,omitempty"`

	// Card and cardholder. AcctNumber and CardSecurityCode are card data: never log them.
	AcctNumber                   string    `json:"acctNumber,omitempty"`
	AcctType                     string    `json:"acctType,omitempty"`
	AcctID                       string    `json:"acctID,omitempty"`
	AcctInfo                     *AcctInfo `json:"acctInfo,omitempty"`
	CardExpiryDate               string    `json:"cardExpiryDate,omitempty"`
	CardSecurityCode             string    `json:"cardSecurityCode,omitempty"`
	CardSecurityCodeStatus       string    `json:"cardSecurityCodeStatus,omitempty"`
	CardSecurityCodeStatusSource string    `json:"cardSecurityCodeStatusSource,omitempty"`
	CardholderName               string    `json:"cardholderName,omitempty"`
	Email                        string    `json:"email,omitempty"`
	HomePhone                    *Phone    `json:"homePhone,omitempty"`
	MobilePhone                  *Phone    `json:"mobilePhone,omitempty"`
	WorkPhone                    *Phone    `json:"workPhone,omitempty"`
	UserID                       string    `json:"userId,omitempty"`
	AddrMatch                    string    `json:"addrMatch,omitempty"`
	BillAddrCity                 string    `json:"billAddrCity,omitempty"`
	BillAddrCountry              string    `json:"billAddrCountry,omitempty"`
	BillAddrLine1                string    `json:"billAddrLine1,omitempty"`
	BillAddrLine2                string    `json:"billAddrLine2,omitempty"`
	BillAddrLine3                string    `json:"billAddrLine3,omitempty"`
	BillAddrPostCode             string    `json:"billAddrPostCode,omitempty"`
	BillAddrState                string    `json:"billAddrState,omitempty"`
	ShipAddrCity                 string    `json:"shipAddrCity,omitempty"`
	ShipAddrCountry              string    `json:"shipAddrCountry,omitempty"`
	ShipAddrLine1                string    `json:"shipAddrLine1,omitempty"`
	ShipAddrLine2                string    `json:"shipAddrLine2,omitempty"`
	ShipAddrLine3                string    `json:"shipAddrLine3,omitempty"`
	ShipAddrPostCode             string    `json:"shipAddrPostCode,omitempty"`
	ShipAddrState                string    `json:"shipAddrState,omitempty"`

	// Purchase and recurring payments.
	PurchaseAmount     string            `json:"purchaseAmount,omitempty"`
	PurchaseCurrency   string            `json:"purchaseCurrency,omitempty"`
	PurchaseExponent   string            `json:"purchaseExponent,omitempty"`
	PurchaseDate       string            `json:"purchaseDate,omitempty"`
	PurchaseInstalData string            `json:"purchaseInstalData,omitempty"`
	RecurringExpiry    string            `json:"recurringExpiry,omitempty"`
	RecurringFrequency string            `json:"recurringFrequency,omitempty"`
	RecurringAmount    string            `json:"recurringAmount,omitempty"`
	RecurringCurrency  string            `json:"recurringCurrency,omitempty"`
	RecurringExponent  string            `json:"recurringExponent,omitempty"`
	RecurringDate      string            `json:"recurringDate,omitempty"`
	RecurringInd       *RecurringInd     `json:"recurringInd,omitempty"`
	TransType          string            `json:"transType,omitempty"`
	MultiTransaction   *MultiTransaction `json:"multiTransaction,omitempty"`

	// Browser channel.
	NotificationURL          string   `json:"notificationURL,omitempty"`
	BrowserAcceptHeader      string   `json:"browserAcceptHeader,omitempty"`
	BrowserIP                string   `json:"browserIP,omitempty"`
	BrowserJavaEnabled       *bool    `json:"browserJavaEnabled,omitempty"`
	BrowserJavascriptEnabled *bool    `json:"browserJavascriptEnabled,omitempty"`
	BrowserLanguage          string   `json:"browserLanguage,omitempty"`
	BrowserColorDepth        string   `json:"browserColorDepth,omitempty"`
	BrowserScreenHeight      string   `json:"browserScreenHeight,omitempty"`
	BrowserScreenWidth       string   `json:"browserScreenWidth,omitempty"`
	BrowserTZ                string   `json:"browserTZ,omitempty"`
	BrowserUserAgent         string   `json:"browserUserAgent,omitempty"`
	AcceptLanguage           []string `json:"acceptLanguage,omitempty"`

	// App channel.
	SDKAppID               string               `json:"sdkAppID,omitempty"`
	SDKTransID             string               `json:"sdkTransID,omitempty"`
	SDKEncData             string               `json:"sdkEncData,omitempty"`
	SDKEphemPubKey         json.RawMessage      `json:"sdkEphemPubKey,omitempty"`
	SDKMaxTimeout          string               `json:"sdkMaxTimeout,omitempty"`
	SDKReferenceNumber     string               `json:"sdkReferenceNumber,omitempty"`
	SDKType                string               `json:"sdkType,omitempty"`
	DefaultSDKType         *DefaultSDKType      `json:"defaultSdkType,omitempty"`
	SplitSDKType           *SplitSDKType        `json:"splitSdkType,omitempty"`
	SDKServerSignedContent string               `json:"sdkServerSignedContent,omitempty"`
	DeviceRenderOptions    *DeviceRenderOptions `json:"deviceRenderOptions,omitempty"`
	DeviceInfo             json.RawMessage      `json:"deviceInfo,omitempty"`
	AppIP                  string               `json:"appIp,omitempty"`
	DeviceID               string               `json:"deviceId,omitempty"`

	// Device binding, tokens, trust lists and SPC (2.2.0 and 2.3.1).
	DeviceBindingStatus       string          `json:"deviceBindingStatus,omitempty"`
	DeviceBindingStatusSource string          `json:"deviceBindingStatusSource,omitempty"`
	PayTokenInd               *bool           `json:"payTokenInd,omitempty"`
	PayTokenSource            string          `json:"payTokenSource,omitempty"`
	PayTokenInfo              json.RawMessage `json:"payTokenInfo,omitempty"`
	WhiteListStatus           string          `json:"whiteListStatus,omitempty"`
	WhiteListStatusSource     string          `json:"whiteListStatusSource,omitempty"`
	TrustListStatus           string          `json:"trustListStatus,omitempty"`
	TrustListStatusSource     string          `json:"trustListStatusSource,omitempty"`
	SpcIncompInd              string          `json:"spcIncompInd,omitempty"`
	BroadInfo                 json.RawMessage `json:"broadInfo,omitempty"`

	// Added by the DS on the way to the ACS.
	DSReferenceNumber string `json:"dsReferenceNumber,omitempty"`
	DSTransID         string `json:"dsTransID,omitempty"`
	DSURL             string `json:"dsURL,omitempty"`

	MessageExtension []MessageExtension `json:"messageExtension,omitempty"`
}

// ThreeDSRequestorAuthenticationInfo says how the cardholder logged in to the requestor.
type ThreeDSRequestorAuthenticationInfo struct {
	ThreeDSReqAuthMethod    string `json:"threeDSReqAuthMethod,omitempty"`
	ThreeDSReqAuthTimestamp string `json:"threeDSReqAuthTimestamp,omitempty"`
	ThreeDSReqAuthData      string `json:"threeDSReqAuthData,omitempty"`
}

// ThreeDSRequestorPriorAuthenticationInfo describes an earlier 3DS authentication of the same cardholder.
type ThreeDSRequestorPriorAuthenticationInfo struct {
	ThreeDSReqPriorAuthMethod    string `json:"threeDSReqPriorAuthMethod,omitempty"`
	ThreeDSReqPriorAuthTimestamp string `json:"threeDSReqPriorAuthTimestamp,omitempty"`
	ThreeDSReqPriorAuthData      string `json:"threeDSReqPriorAuthData,omitempty"`
	ThreeDSReqPriorRef           string `json:"threeDSReqPriorRef,omitempty"`
}

// AcctInfo is what the requestor knows of the cardholder's account with it (acctInfo).
type AcctInfo struct {
	ChAccAgeInd           string `json:"chAccAgeInd,omitempty"`
	ChAccChange           string `json:"chAccChange,omitempty"`
	ChAccChangeInd        string `json:"chAccChangeInd,omitempty"`
	ChAccDate             string `json:"chAccDate,omitempty"`
	ChAccPwChange         string `json:"chAccPwChange,omitempty"`
	ChAccPwChangeInd      string `json:"chAccPwChangeInd,omitempty"`
	ChAccReqID            string `json:"chAccReqID,omitempty"`
	NbPurchaseAccount     string `json:"nbPurchaseAccount,omitempty"`
	PaymentAccAge         string `json:"paymentAccAge,omitempty"`
	PaymentAccInd         string `json:"paymentAccInd,omitempty"`
	ProvisionAttemptsDay  string `json:"provisionAttemptsDay,omitempty"`
	ShipAddressUsage      string `json:"shipAddressUsage,omitempty"`
	ShipAddressUsageInd   string `json:"shipAddressUsageInd,omitempty"`
	ShipNameIndicator     string `json:"shipNameIndicator,omitempty"`
	SuspiciousAccActivity string `json:"suspiciousAccActivity,omitempty"`
	TxnActivityDay        string `json:"txnActivityDay,omitempty"`
	TxnActivityYear       string `json:"txnActivityYear,omitempty"`
}

// MerchantRisk is the merchantRiskIndicator object: the merchant's view of this purchase's risk.
type MerchantRisk struct {
	DeliveryEmailAddress string `json:"deliveryEmailAddress,omitempty"`
	DeliveryTimeframe    string `json:"deliveryTimeframe,omitempty"`
	GiftCardAmount       string `json:"giftCardAmount,omitempty"`
	GiftCardCount        string `json:"giftCardCount,omitempty"`
	GiftCardCurr         string `json:"giftCardCurr,omitempty"`
	PreOrderDate         string `json:"preOrderDate,omitempty"`
	PreOrderPurchaseInd  string `json:"preOrderPurchaseInd,omitempty"`
	ReorderItemsInd      string `json:"reorderItemsInd,omitempty"`
	ShipIndicator        string `json:"shipIndicator,omitempty"`
}

// Phone is a phone number as country calling code and subscriber number.
type Phone struct {
	CC         string `json:"cc,omitempty"`
	Subscriber string `json:"subscriber,omitempty"`
}

// RecurringInd qualifies a recurring payment's amount and frequency (2.3.1).
type RecurringInd struct {
	AmountInd    string `json:"amountInd,omitempty"`
	FrequencyInd string `json:"frequencyInd,omitempty"`
}

// DeviceRenderOptions lists the challenge interfaces and UI types the SDK can show.
type DeviceRenderOptions struct {
	SDKInterface string   `json:"sdkInterface,omitempty"`
	SDKUiType    []string `json:"sdkUiType,omitempty"`
}

// DefaultSDKType describes a default-SDK integration (2.3.1).
type DefaultSDKType struct {
	SDKVariant string `json:"sdkVariant,omitempty"`
	WrappedInd string `json:"wrappedInd,omitempty"`
}

// SplitSDKType describes a split-SDK integration (2.3.1).
type SplitSDKType struct {
	SDKVariant string `json:"sdkVariant,omitempty"`
	LimitedInd string `json:"limitedInd,omitempty"`
}

// SellerInfo describes one seller of a marketplace purchase (2.3.1 sellerInfo, an array). Its
// members are not settled in our sources [U]; dict_areq.go says which we read and how.
type SellerInfo struct {
	SellerName         string `json:"sellerName,omitempty"`
	SellerID           string `json:"sellerId,omitempty"`
	SellerBusinessName string `json:"sellerBusinessName,omitempty"`
	SellerAcctDate     string `json:"sellerAcctDate,omitempty"`
	SellerAddrLine1    string `json:"sellerAddrLine1,omitempty"`
	SellerAddrLine2    string `json:"sellerAddrLine2,omitempty"`
	SellerAddrLine3    string `json:"sellerAddrLine3,omitempty"`
	SellerAddrCity     string `json:"sellerAddrCity,omitempty"`
	SellerAddrState    string `json:"sellerAddrState,omitempty"`
	SellerAddrPostCode string `json:"sellerAddrPostCode,omitempty"`
	SellerAddrCountry  string `json:"sellerAddrCountry,omitempty"`
	SellerEmail        string `json:"sellerEmail,omitempty"`
	SellerPhone        *Phone `json:"sellerPhone,omitempty"`
}

// MultiTransaction says that one authentication covers several purchases (2.3.1): the merchants
// taking part and how long and how often the authentication value may be used [U].
type MultiTransaction struct {
	MerchantList   []ListedMerchant `json:"merchantList,omitempty"`
	AVValidityTime string           `json:"avValidityTime,omitempty"`
	AVNumberUse    string           `json:"avNumberUse,omitempty"`
}

// ListedMerchant is one merchant of a multi-transaction.
type ListedMerchant struct {
	MerchantNameListed       string `json:"merchantNameListed,omitempty"`
	AcquirerMerchantIDListed string `json:"acquirerMerchantIdListed,omitempty"`
	MerchantAmount           string `json:"merchantAmount,omitempty"`
	MerchantCurrency         string `json:"merchantCurrency,omitempty"`
	MerchantExponent         string `json:"merchantExponent,omitempty"`
	SellerID                 string `json:"sellerId,omitempty"`
}
