-- Operator-tunable knobs (the seed's "DB-stored" kind). Types, bounds and
-- descriptions live in halo-core's knob registry; this seeds the defaults.

-- Owner: halo-core (config service). Read by nobody else directly: the edges
-- go through the core's ConfigService.
CREATE TABLE app_config (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid
);

-- Owner: halo-core. One row, bumped by every accepted settings change; the
-- CC's ETag.
CREATE TABLE app_config_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO app_config_version (version) VALUES (1) ON CONFLICT DO NOTHING;

-- Owner: halo-core. Who changed which knob from what to what, and when.
CREATE TABLE app_config_changes (
    id         bigserial PRIMARY KEY,
    key        text NOT NULL,
    old_value  jsonb,
    new_value  jsonb NOT NULL,
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_config_changes_recent ON app_config_changes (id DESC);

INSERT INTO app_config (key, value) VALUES
    ('mitra_stale_after_seconds', '90'),
    ('mitra_accept_timeout_seconds', '60'),
    ('extension_timeout_seconds', '60'),
    ('max_customers_per_mitra', '3'),
    ('pricing_tiers', '[{"id": "chat_30", "label": "30 menit", "duration_minutes": 30, "price_idr": 25000}, {"id": "chat_60", "label": "60 menit", "duration_minutes": 60, "price_idr": 45000}]'),
    ('support_handles_json', '{"whatsapp": "+6281234567890", "instagram": "halobestie.id", "email": "support@halobestie.id"}'),
    ('otp_resend_cooldown_seconds', '60'),
    ('otp_max_per_phone_per_hour', '5'),
    ('otp_max_per_ip_per_hour', '20')
ON CONFLICT (key) DO NOTHING;
