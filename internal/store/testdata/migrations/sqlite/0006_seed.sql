-- A merchant, a cached card range and a finished challenge as a version-6 database held them.
INSERT INTO tdss_merchants (id, name, requestor_id, requestor_name, requestor_url, acquirer_bin, acquirer_merchant_id,
    mcc, country, webhook_url, api_key_hash, created_at)
VALUES ('seed-shop', 'Seed Shop', 'SEED*REQ', 'Seed Shop Ltd', 'https://seed-shop.example', '412345', 'SEED0001',
    '5732', '826', '', 'c0ffee', '2024-11-05T08:30:00.000000Z');
INSERT INTO tdss_ranges (start_range, end_range, pan_len, acs_start, acs_end, ds_start, ds_end, method_url, acs_info_ind)
VALUES ('4000000000000000', '4000000000009999', 16, '2.1.0', '2.2.0', '2.1.0', '2.3.1', 'https://acs.example/method', '01,02');
INSERT INTO tdss_cache (id, serial, ds_start, ds_end, refresh_seconds, loaded_at, next_at)
VALUES (1, '42', '2.1.0', '2.3.1', 43200, '2024-11-05T08:00:00.000000Z', '2024-11-05T20:00:00.000000Z');
INSERT INTO tdss_transactions (id, merchant_id, masked_pan, pan_sealed, message_version, method_url, method_done, comp_ind,
    state, ds_trans_id, acs_trans_id, acs_url, trans_status, trans_status_reason, authentication_value, eci,
    challenge_cancel, error_code, error_detail, created_at, ares_at, result_at)
VALUES ('8a880dc0-d2d2-4067-bcb1-b08d1690b26e', 'seed-shop', '400000******1091', '', '2.2.0', 'https://acs.example/method',
    1, 'Y', 'final', 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b', '13c701a3-5a88-4c45-89e9-ef65e50a8bf9',
    'https://acs.example/challenge', 'Y', '', 'rmnQPKCl8XaSeYOGgHda6HFbyYg=', '05', '', '', '',
    '2024-11-05T08:30:00.000000Z', '2024-11-05T08:30:01.000000Z', '2024-11-05T08:31:00.000000Z');
