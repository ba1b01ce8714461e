-- Per-IP and per-session limits on anonymous sign-in, refresh and OTP
-- verification. Each allowed request leaves a row; the limit is a count
-- over the last hour, read from here so it holds across core instances.

-- Owner: halo-core. `bucket` names the limit (e.g. `refresh_session`),
-- `key` what it counts (an IP address or a session id).
CREATE TABLE auth.rate_limit_hits (
    bucket text NOT NULL,
    key    text NOT NULL,
    hit_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_limit_hits_by_key ON auth.rate_limit_hits (bucket, key, hit_at DESC);

-- Per-IP defaults are generous: Indonesian carriers put many phones behind
-- one address (carrier-grade NAT). Per-session ones are strict: one app
-- refreshes about once an hour.
INSERT INTO app_config (key, value) VALUES
    ('anonymous_sign_in_max_per_ip_per_hour', '300'),
    ('refresh_max_per_session_per_hour', '20'),
    ('refresh_max_per_ip_per_hour', '2000'),
    ('otp_verify_max_per_ip_per_hour', '200')
ON CONFLICT (key) DO NOTHING;
