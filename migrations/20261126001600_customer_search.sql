-- The CC's customer search (issue 12), measured with 50,000 customers:
-- a phone prefix scanned every user (415 ms p99), a rare name too. A
-- prefix index for phones, and trigrams for any part of a display name.
-- pg_trgm is a trusted extension (Postgres 13+, Cloud SQL): the database
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_phone_prefix ON users (phone text_pattern_ops) WHERE phone IS NOT NULL;
CREATE INDEX users_display_name_trgm ON users USING gin (display_name gin_trgm_ops);
