-- Views per paste per hour, moved here from Redis by the analytics job.
CREATE TABLE paste_views_hourly (
    paste_id text NOT NULL,
    hour timestamptz NOT NULL,
    views bigint NOT NULL CHECK (views >= 0),
    PRIMARY KEY (paste_id, hour)
);

-- Batches already applied: the analytics hand-off inserts its batch id in the same
-- transaction as the counts, so a batch re-applied after a crash is recognised and skipped.
CREATE TABLE applied_batches (
    batch_id text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
