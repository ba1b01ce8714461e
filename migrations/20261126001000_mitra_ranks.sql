-- Availability for every mitra at once (issue 10). `mitra_rank` per row
-- made the customers' mitra list plan the `mitra_loads` view once per
-- mitra: 1.2 s for a page at 5,000 mitras. `mitra_ranks` ranks them all in
-- one set-based query (a SQL function Postgres inlines, so a filter on
-- `mitra_id` still reaches the indexes), and `mitra_rank` becomes its
-- one-row case: the rule stays in one place.
-- Owner: halo-mitras.

-- Every mitra with `rank` 0 (available), 1 (online and beating but full)
-- or 2 (offline: said so, silent longer than `stale_after_seconds`, or
-- not active), and `load`, the customers they hold now.
CREATE FUNCTION mitra_ranks(stale_after_seconds double precision, max_customers bigint)
RETURNS TABLE (mitra_id uuid, rank integer, load bigint)
LANGUAGE sql STABLE AS $$
    SELECT u.id,
           CASE WHEN u.status = 'active' AND p.status = 'online'
                     AND p.last_beat_at > now() - make_interval(secs => stale_after_seconds)
                THEN CASE WHEN coalesce(l.load, 0) < max_customers THEN 0 ELSE 1 END
                ELSE 2
           END,
           coalesce(l.load, 0)
    FROM users u
    LEFT JOIN mitra_presence p ON p.mitra_id = u.id
    LEFT JOIN mitra_loads l ON l.mitra_id = u.id
    WHERE u.user_type = 'mitra'
$$;

CREATE OR REPLACE FUNCTION mitra_rank(mitra uuid, stale_after_seconds double precision, max_customers bigint)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT r.rank FROM mitra_ranks(stale_after_seconds, max_customers) r
                     WHERE r.mitra_id = mitra), 2)
$$;

-- Only the old `mitra_rank` read it.
DROP FUNCTION mitra_load(uuid);
