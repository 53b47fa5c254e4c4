-- The dashboard's slow figures' last snapshot (issue 16): any app process's first view shows it at once and a
-- refresher computes newer ones behind it (core/dashboard/snapshots.py). Keyed by figure name and arguments (JSON);
-- `value` is the figures as JSON (frames as base64 Arrow IPC). `stamp` is the contacts write stamp
-- (core/stamps.py) read before computing, valid in `stamp_domain` only (a process's own on DuckDB, the database's on
-- PostgreSQL). `refreshing_until`: a refresher's claim, so one process at a time recomputes a figure.
CREATE TABLE IF NOT EXISTS dashboard_snapshots (
    figure_key       VARCHAR PRIMARY KEY,
    stamp_domain     VARCHAR NOT NULL,
    stamp            BIGINT NOT NULL,
    value            VARCHAR NOT NULL,
    computed_at      TIMESTAMP NOT NULL,
    seconds          DOUBLE NOT NULL,
    refreshing_until TIMESTAMP
);
