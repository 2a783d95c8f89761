-- Schema version 2: venue poster codes (单位张贴码). Conventions as in 0001; the tables, checks and
-- indexes of migrations/sqlite/0002_venues.sql, one for one.
--
-- An organisation applies (pending), an operator approves (approved: it gets a token, whose hash
-- is kept here) or rejects it; an approved venue can be suspended and reinstated. Its posters
-- are numbered per venue; a reprint retires the current one. Entries refer to a person by the
-- citizen's row id only, and are deleted 28 days after they were made.

CREATE TABLE venues (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The random id carried in the poster's QR (8 bytes).
    venue_key     BYTEA NOT NULL UNIQUE CHECK (length(venue_key) = 8),
    name          TEXT COLLATE "C" NOT NULL,
    uscc          TEXT COLLATE "C" NOT NULL CHECK (length(uscc) = 18),
    address       TEXT COLLATE "C" NOT NULL,
    contact_name  TEXT COLLATE "C" NOT NULL,
    contact_phone TEXT COLLATE "C" NOT NULL,
    status        TEXT COLLATE "C" NOT NULL
                  CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    applied_at    TEXT COLLATE "C" NOT NULL,
    decided_at    TEXT COLLATE "C",
    decided_by    BIGINT REFERENCES principals (id),
    decision_note TEXT COLLATE "C",
    token_hash    BYTEA UNIQUE CHECK (token_hash IS NULL OR length(token_hash) = 32),
    -- An approved or suspended venue has a token; a pending or rejected one has none.
    CHECK ((status IN ('approved', 'suspended')) = (token_hash IS NOT NULL)),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);

-- One live registration per organisation: a rejected one may apply again.
CREATE UNIQUE INDEX venues_one_live_per_uscc ON venues (uscc)
    WHERE status IN ('pending', 'approved', 'suspended');

CREATE TABLE venue_posters (
    venue_id   BIGINT NOT NULL REFERENCES venues (id),
    serial     BIGINT NOT NULL CHECK (serial BETWEEN 1 AND 65535),
    kid        BIGINT NOT NULL CHECK (kid BETWEEN 0 AND 255),
    qr_text    TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    retired_at TEXT COLLATE "C",
    PRIMARY KEY (venue_id, serial)
);

-- At most one current poster per venue.
CREATE UNIQUE INDEX venue_posters_one_current ON venue_posters (venue_id)
    WHERE retired_at IS NULL;

-- No names, no ID numbers: the venue, the time, the citizen's row id, the colour at entry, and how
-- the entry was made (the poster scanned with 随申办, or an offline code scanned by a door
-- verifier of the venue).
CREATE TABLE venue_entries (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id      BIGINT NOT NULL REFERENCES venues (id),
    at            TEXT COLLATE "C" NOT NULL,
    citizen_id    BIGINT NOT NULL REFERENCES citizens (id),
    channel       TEXT COLLATE "C" NOT NULL CHECK (channel IN ('suishen_code', 'offline_code')),
    color         TEXT COLLATE "C" NOT NULL CHECK (color IN ('green', 'yellow', 'red')),
    poster_serial BIGINT,
    verifier_id   BIGINT REFERENCES principals (id),
    CHECK ((channel = 'suishen_code') = (poster_serial IS NOT NULL)),
    CHECK ((channel = 'offline_code') = (verifier_id IS NOT NULL))
);

CREATE INDEX venue_entries_venue_at ON venue_entries (venue_id, at);
CREATE INDEX venue_entries_at ON venue_entries (at);

-- A verifier token may be bound to a venue: its valid scans record entries there (door check).
ALTER TABLE principals ADD COLUMN venue_id BIGINT REFERENCES venues (id);
