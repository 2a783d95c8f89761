-- Schema version 2: venue poster codes (单位张贴码). Conventions as in 0001.
--
-- An organisation applies (pending), an operator approves (approved: it gets a token, whose hash
-- is kept here) or rejects it; an approved venue can be suspended and reinstated. Its posters
-- are numbered per venue; a reprint retires the current one. Entries refer to a person by the
-- citizen's row id only, and are deleted 28 days after they were made.

CREATE TABLE venues (
    id            INTEGER PRIMARY KEY,
    -- The random id carried in the poster's QR (8 bytes).
    venue_key     BLOB    NOT NULL UNIQUE CHECK (length(venue_key) = 8),
    name          TEXT    NOT NULL,
    uscc          TEXT    NOT NULL CHECK (length(uscc) = 18),
    address       TEXT    NOT NULL,
    contact_name  TEXT    NOT NULL,
    contact_phone TEXT    NOT NULL,
    status        TEXT    NOT NULL
                  CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    applied_at    TEXT    NOT NULL,
    decided_at    TEXT,
    decided_by    INTEGER REFERENCES principals (id),
    decision_note TEXT,
    token_hash    BLOB    UNIQUE CHECK (token_hash IS NULL OR length(token_hash) = 32),
    -- An approved or suspended venue has a token; a pending or rejected one has none.
    CHECK ((status IN ('approved', 'suspended')) = (token_hash IS NOT NULL)),
    CHECK ((status = 'pending') = (decided_at IS NULL))
);

-- One live registration per organisation: a rejected one may apply again.
CREATE UNIQUE INDEX venues_one_live_per_uscc ON venues (uscc)
    WHERE status IN ('pending', 'approved', 'suspended');

CREATE TABLE venue_posters (
    venue_id   INTEGER NOT NULL REFERENCES venues (id),
    serial     INTEGER NOT NULL CHECK (serial BETWEEN 1 AND 65535),
    kid        INTEGER NOT NULL CHECK (kid BETWEEN 0 AND 255),
    qr_text    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (venue_id, serial)
);

-- At most one current poster per venue.
CREATE UNIQUE INDEX venue_posters_one_current ON venue_posters (venue_id)
    WHERE retired_at IS NULL;

-- No names, no ID numbers: the venue, the time, the citizen's row id, the colour at entry, and how
-- the entry was made (the poster scanned with 随申办, or an offline code scanned by a door
-- verifier of the venue).
CREATE TABLE venue_entries (
    id            INTEGER PRIMARY KEY,
    venue_id      INTEGER NOT NULL REFERENCES venues (id),
    at            TEXT    NOT NULL,
    citizen_id    INTEGER NOT NULL REFERENCES citizens (id),
    channel       TEXT    NOT NULL CHECK (channel IN ('suishen_code', 'offline_code')),
    color         TEXT    NOT NULL CHECK (color IN ('green', 'yellow', 'red')),
    poster_serial INTEGER,
    verifier_id   INTEGER REFERENCES principals (id),
    CHECK ((channel = 'suishen_code') = (poster_serial IS NOT NULL)),
    CHECK ((channel = 'offline_code') = (verifier_id IS NOT NULL))
);

CREATE INDEX venue_entries_venue_at ON venue_entries (venue_id, at);
CREATE INDEX venue_entries_at ON venue_entries (at);

-- A verifier token may be bound to a venue: its valid scans record entries there (door check).
ALTER TABLE principals ADD COLUMN venue_id INTEGER REFERENCES venues (id);
