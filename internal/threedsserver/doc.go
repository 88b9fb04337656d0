// Package threedsserver is the 3DS Server: the merchant side of EMV 3-D Secure. It keeps the
// merchants and their API keys, a cache of the DS's card ranges (PReq/PRes), starts browser
// authentications (3DS Method), sends the AReq to the DS over mutual TLS and checks the ARes,
// hands the challenge to the browser and takes the final result from the RReq the DS relays.
//
// Server is built from its dependencies (a Store, an http.Client holding the 3DS Server's
// certificate, the DS URL and the public URLs) and serves three handlers, one per trust boundary:
// MerchantHandler (merchants' back ends, API key), PublicHandler (shoppers' browsers: the checkout
// script, 3DS Method and challenge notifications) and ProtocolHandler (the DS, mutual TLS: RReq). Admin is the operators'
// merchant API. `open3ds serve 3dss` and, later, `open3ds demo` only wire them.
package threedsserver
