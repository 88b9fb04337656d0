-- Directory Server rows as a version-3 database held them. The migration test reads them back once
-- every later migration has been applied.
UPDATE ds_scheme SET reference_number = 'SEED-DS-REF', eci_y = '02', eci_a = '01', eci_n = '00', serial = 3 WHERE id = 1;
INSERT INTO ds_acs (name, reference_number, operator_id, url) VALUES ('seed-bank', 'SEED-ACS-REF', 'SEED-OP', 'https://acs.seed.example/areq');
INSERT INTO ds_3ds_servers (name, reference_number, operator_id) VALUES ('seed-psp', 'SEED-3DSS-REF', '');
INSERT INTO ds_requestors (requestor_id, server_name) VALUES ('SEED*REQ', 'seed-psp');
INSERT INTO ds_ranges (start_pan, end_pan, pan_len, acs_name, acs_start, acs_end, ds_start, ds_end, method_url, acs_info_ind)
VALUES ('4000000000000000', '4000000000009999', 16, 'seed-bank', '2.1.0', '2.2.0', '2.1.0', '2.3.1', '', '01,02');
INSERT INTO ds_range_changes (serial, action, start_pan, end_pan, acs_name, acs_start, acs_end, ds_start, ds_end, method_url, acs_info_ind)
VALUES (3, 'A', '4000000000000000', '4000000000009999', 'seed-bank', '2.1.0', '2.2.0', '2.1.0', '2.3.1', '', '01,02');
INSERT INTO ds_transactions (ds_trans_id, three_ds_server_trans_id, acs_trans_id, acs_name, server_name, three_ds_server_url,
    message_version, message_category, device_channel, masked_pan, outcome, created_at)
VALUES ('f25084f0-5b16-4c0a-ae5d-b24808a95e4b', '8a880dc0-d2d2-4067-bcb1-b08d1690b26e', '13c701a3-5a88-4c45-89e9-ef65e50a8bf9',
    'seed-bank', 'seed-psp', 'https://3dss.seed.example/rreq', '2.2.0', '01', '02', '400000******1091', 'C',
    '2024-11-05 08:30:00.250001+00');
INSERT INTO ds_preq_pacing (server_name, last_at, owed_reload) VALUES ('seed-psp', '2024-11-05 08:00:00+00', 1);
