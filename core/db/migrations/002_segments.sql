-- Saved segments: a name and a filter (JSON of core.filters.Filter), evaluated whenever the segment is shown,
-- so a contact that starts to match appears. Names are unique regardless of case (checked in core.segments).

CREATE SEQUENCE segment_id_seq;

CREATE TABLE segments (
    segment_id  INTEGER PRIMARY KEY DEFAULT nextval('segment_id_seq'),
    name        VARCHAR NOT NULL UNIQUE,
    filter      JSON NOT NULL,
    created_by  VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
