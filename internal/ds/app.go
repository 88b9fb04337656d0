package ds

import (
	"context"
	"errors"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/store"
)

// prepareApp runs the DS's own checks of an app AReq (deviceChannel 01), beyond what the emv
// dictionary checks of every receiver, and readies fwd, the AReq the ACS will get:
//
//   - sdkEphemPubKey must be a point on P-256 (the dictionary sees only a JWK's shape): else 203;
//   - sdkReferenceNumber must be an SDK the scheme approved, or the scheme must accept unknown
//     ones (UnknownSDK): else 303;
//   - sdkEncData must decrypt with one of the DS's keys to device information (CheckDeviceInfo):
//     else 302 naming sdkEncData.
//
// The ACS then gets the device information in deviceInfo, in the scheme's format, and never
// sdkEncData itself: the JWE is encrypted to the DS alone, so it would be of no use to the ACS, and
// the protocol has the DS pass the device information on decrypted (PROTOCOL.md §1.5 step 4).
// Whatever deviceInfo the 3DS Server sent is dropped, app or not, since only the DS may write it.
// The errors' causes name what failed and never carry the data, as they reach the log.
func (s *Server) prepareApp(ctx context.Context, areq, fwd *emv.AReq, scheme Scheme) error {
	fwd.DeviceInfo = nil
	if areq.DeviceChannel != emv.ChannelApp {
		return nil
	}
	scheme = scheme.withDefaults()
	if _, err := sdkcrypto.ParseJWK(areq.SDKEphemPubKey); err != nil {
		return about(&emv.Error{Code: emv.CodeFormatInvalid, Detail: "sdkEphemPubKey", Err: err}, areq)
	}
	if err := s.checkSDK(ctx, areq, scheme.UnknownSDK); err != nil {
		return err
	}
	keys := sdkcrypto.DSKeys{DSID: scheme.DSID, Keys: s.cfg.SDKKeys}
	info, err := keys.DecryptSDKEncData(areq.SDKEncData)
	if err == nil {
		err = CheckDeviceInfo(info)
	}
	if err != nil {
		s.cfg.Metrics.sdkEncDataRefused()
		return about(&emv.Error{Code: emv.CodeDecryptionFailure, Detail: "sdkEncData", Err: err}, areq)
	}
	if fwd.DeviceInfo, err = encodeDeviceInfo(info, scheme.DeviceInfo); err != nil {
		return err
	}
	fwd.SDKEncData = ""
	return nil
}

// checkSDK looks the AReq's sdkReferenceNumber up in the registry of approved SDKs. An unknown one
// is refused with 303 or let through with a warning in the log, by the scheme's policy.
func (s *Server) checkSDK(ctx context.Context, areq *emv.AReq, policy SDKPolicy) error {
	_, err := s.cfg.Store.SDK(ctx, areq.SDKReferenceNumber)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if policy == SDKAccept {
		s.cfg.Log.WarnContext(ctx, "an AReq from an SDK the scheme has not approved was accepted by the scheme's policy",
			"sdkReferenceNumber", areq.SDKReferenceNumber, "threeDSServerTransID", areq.ThreeDSServerTransID)
		return nil
	}
	return about(&emv.Error{Code: emv.CodeAccessDenied, Detail: "sdkReferenceNumber",
		Err: errors.New("the SDK is not in the DS's registry of approved SDKs")}, areq)
}
