-- Exchanges as a version-1 database held them, before error_component existed. The migration test
-- reads them back through the store once every later migration has been applied.
INSERT INTO exchanges (id, role, message_type, response_type, direction, peer,
    three_ds_server_trans_id, ds_trans_id, acs_trans_id, sdk_trans_id, masked_pan, message_version,
    outcome, error_code, started_at, duration_us)
VALUES
    ('seed-v1-areq', 'ds', 'AReq', 'ARes', 'in', '3dss-acme',
     '8a880dc0-d2d2-4067-bcb1-b08d1690b26e', 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b',
     '13c701a3-5a88-4c45-89e9-ef65e50a8bf9', NULL, '400000******1091', '2.2.0',
     'C', NULL, '2024-11-05T08:30:00.250001Z', 18250),
    ('seed-v1-rreq', 'acs', 'RReq', 'Erro', 'out', 'ds',
     '8a880dc0-d2d2-4067-bcb1-b08d1690b26e', 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b',
     '13c701a3-5a88-4c45-89e9-ef65e50a8bf9', NULL, NULL, NULL,
     'Erro', '305', '2024-11-05T08:31:02.000000Z', 5000001);
