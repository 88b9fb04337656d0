-- An issuer, its card range and one cardholder as a version-4 database held them. The PAN is sealed
-- (an opaque value here: the check reads only what needs no key).
INSERT INTO acs_issuers (id, name, eci_style, authvalue_key_ref, risk_policy, not_enrolled_policy,
    no_challenge_policy, decoupled, otp_length, otp_ttl_seconds, otp_max_attempts, otp_max_resends,
    brand_name, logo_url, support_text, created_at, updated_at)
VALUES ('seed-bank', 'Seed Bank', 'mastercard', 'seed-bank', 'default', 'A', 'N', 1, 6, 300, 3, 3,
    'Seed Bank', 'https://seed.example/logo.png', 'Call us', '2024-11-05T08:30:00.000000Z', '2024-11-05T08:30:00.000000Z');
INSERT INTO acs_card_ranges (range_start, range_end, issuer_id)
VALUES ('5100000000000000000', '5100009999999999999', 'seed-bank');
INSERT INTO acs_cardholders (id, issuer_id, pan_sealed, pan_key_id, pan_hash, masked_pan, expiry, status,
    mobiles, emails, preferred_channel, locale, created_at, updated_at)
VALUES ('ch_seed', 'seed-bank', 'v1.sealed-opaque', 1, 'hash-seed', '510000******0008', '2812', 'blocked',
    '["+447700900123"]', '["seed@example.com"]', 'email', 'en-GB',
    '2024-11-05T08:30:00.000000Z', '2024-11-05T08:30:00.000000Z');
