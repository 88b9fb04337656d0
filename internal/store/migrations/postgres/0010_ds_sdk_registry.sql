-- The DS's side of the app channel (issue 15): the 3DS SDKs the scheme has approved, and two scheme
-- settings for app AReqs.

-- An approved 3DS SDK, by the sdkReferenceNumber EMVCo assigned it. The description is the
-- operator's note (vendor, product, approval date); the DS does not read it.
CREATE TABLE ds_sdks (
    reference_number text PRIMARY KEY,
    description      text NOT NULL
);

-- unknown_sdk: what the DS does with an AReq from an SDK not in ds_sdks: 'reject' answers Erro 303
-- naming sdkReferenceNumber, 'accept' routes it and logs a warning. Rejecting is the default, as the
-- registry exists to keep unapproved SDKs out.
ALTER TABLE ds_scheme ADD COLUMN unknown_sdk text NOT NULL DEFAULT 'reject';
-- device_info: how the decrypted device information travels to the ACS in deviceInfo: 'base64url'
-- (a JSON string holding the unpadded base64url of the device-information JSON) or 'json' (the
-- object itself), for ACSs that want that.
ALTER TABLE ds_scheme ADD COLUMN device_info text NOT NULL DEFAULT 'base64url';
