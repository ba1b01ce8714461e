-- Identities and credentials. Every table here is written only by halo-core
-- (the auth-and-config core); the edges may read `users` (profiles).
CREATE SCHEMA IF NOT EXISTS auth;

-- Owner: halo-core. Customers and mitras; CC operators live in auth.cc_users.
CREATE TABLE users (
    id           uuid PRIMARY KEY,
    user_type    text NOT NULL CHECK (user_type IN ('customer', 'mitra')),
    is_anonymous boolean NOT NULL DEFAULT false,
    phone        text CHECK (phone IS NULL OR phone ~ '^\+[1-9][0-9]{6,14}$'),
    display_name text CHECK (display_name IS NULL OR char_length(display_name) BETWEEN 1 AND 60),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'blocked')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT (is_anonymous AND user_type = 'mitra'))
);
-- One customer and one mitra account per phone at most.
CREATE UNIQUE INDEX users_phone_per_type ON users (user_type, phone) WHERE phone IS NOT NULL;

-- Owner: halo-core. Control-center operators (email + bcrypt password).
CREATE TABLE auth.cc_users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    display_name  text,
    role          text NOT NULL CHECK (role IN ('admin', 'operator')),
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cc_users_email ON auth.cc_users (lower(email));

-- Owner: halo-core. Google/Apple subjects linked to a customer.
CREATE TABLE auth.identities (
    provider   text NOT NULL CHECK (provider IN ('google', 'apple')),
    subject    text NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, subject)
);

-- Owner: halo-core. One row per sign-in; `user_id` points into users or
-- auth.cc_users depending on `user_type`.
CREATE TABLE auth.sessions (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL,
    user_type          text NOT NULL CHECK (user_type IN ('customer', 'mitra', 'cc_user')),
    refresh_generation integer NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_refreshed_at  timestamptz,
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    revoked_reason     text
);
CREATE INDEX sessions_live_by_user ON auth.sessions (user_id) WHERE revoked_at IS NULL;

-- Owner: halo-core. Every refresh token a session was ever given, as a
-- bcrypt hash: the live one has rotated_at NULL; older ones let the core
-- recognise a replayed token and revoke the session (RFC 9700 4.14.2).
CREATE TABLE auth.refresh_tokens (
    session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
    generation integer NOT NULL,
    token_hash text NOT NULL,
    issued_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz,
    PRIMARY KEY (session_id, generation)
);

-- Owner: halo-core. Phone OTP challenges; the code is stored as an HMAC.
CREATE TABLE auth.otp_challenges (
    id          uuid PRIMARY KEY,
    phone       text NOT NULL,
    audience    text NOT NULL CHECK (audience IN ('customer', 'mitra')),
    code_hash   bytea NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    client_ip   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz
);
CREATE INDEX otp_challenges_by_phone ON auth.otp_challenges (phone, audience, created_at DESC);
CREATE INDEX otp_challenges_by_ip ON auth.otp_challenges (client_ip, created_at DESC);

-- Owner: halo-core. CC password attempts, for per-email and per-IP throttling
-- that holds across instances.
CREATE TABLE auth.login_attempts (
    id           bigserial PRIMARY KEY,
    email        text NOT NULL,
    client_ip    text NOT NULL,
    succeeded    boolean NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_by_email ON auth.login_attempts (email, attempted_at DESC);
CREATE INDEX login_attempts_by_ip ON auth.login_attempts (client_ip, attempted_at DESC);
