-- Schema version 1 of the central service's SQLite database.
--
-- Conventions:
-- - timestamps are RFC 3339 text in UTC with nine fraction digits
--   (`2025-03-14T01:26:53.000000000Z`), so that text order is time order;
-- - calendar dates are ISO text (`2025-03-14`);
-- - enumerations are their snake_case wire names;
-- - token hashes and certificate fingerprints are 32-byte blobs, code ids 32 lowercase hex
--   characters, request and event ids hyphenated lowercase UUIDs.
--
-- Personal data (full ID number, name, photo) lives only in `citizens`. Every other table refers
-- to a person by the citizen's row id.

CREATE TABLE citizens (
    id                INTEGER PRIMARY KEY,
    id_number         TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    photo_mime        TEXT,
    photo             BLOB,
    color             TEXT    NOT NULL CHECK (color IN ('green', 'yellow', 'red')),
    realname_verified INTEGER NOT NULL CHECK (realname_verified IN (0, 1)),
    CHECK ((photo_mime IS NULL) = (photo IS NULL))
);

CREATE TABLE codes (
    code_id         TEXT    NOT NULL PRIMARY KEY CHECK (length(code_id) = 32),
    citizen_id      INTEGER NOT NULL REFERENCES citizens (id),
    kid             INTEGER NOT NULL CHECK (kid BETWEEN 0 AND 255),
    serial          INTEGER NOT NULL CHECK (serial BETWEEN 1 AND 65535),
    issued_on       TEXT    NOT NULL,
    expires_on      TEXT    NOT NULL,
    qr_text         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('active', 'superseded', 'lost')),
    request_id      TEXT    NOT NULL UNIQUE,
    action          TEXT    NOT NULL CHECK (action IN ('apply', 'reissue')),
    kiosk_id        TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    printed_at      TEXT,
    print_failed_at TEXT,
    print_failure   TEXT,
    ended_at        TEXT,
    UNIQUE (citizen_id, serial),
    CHECK ((print_failed_at IS NULL) = (print_failure IS NULL)),
    CHECK ((status = 'active') = (ended_at IS NULL))
);

-- At most one active code per person, whatever the application does.
CREATE UNIQUE INDEX codes_one_active_per_citizen ON codes (citizen_id) WHERE status = 'active';

CREATE TABLE sessions (
    token_hash BLOB    NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    citizen_id INTEGER NOT NULL REFERENCES citizens (id),
    kiosk_id   TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);

CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE principals (
    id         INTEGER PRIMARY KEY,
    role       TEXT    NOT NULL CHECK (role IN ('verifier', 'portal', 'operator')),
    name       TEXT    NOT NULL,
    org        TEXT    NOT NULL,
    token_hash BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at TEXT    NOT NULL
);

CREATE TABLE kiosks (
    kiosk_id         TEXT NOT NULL PRIMARY KEY,
    name             TEXT NOT NULL,
    address          TEXT NOT NULL,
    hours            TEXT NOT NULL,
    cert_fingerprint BLOB NOT NULL UNIQUE CHECK (length(cert_fingerprint) = 32)
);

CREATE TABLE heartbeats (
    kiosk_id    TEXT NOT NULL PRIMARY KEY REFERENCES kiosks (kiosk_id) ON DELETE CASCADE,
    received_at TEXT NOT NULL,
    report_json TEXT NOT NULL
);

-- Keyed by kiosk and event id: a kiosk re-sending an event is a duplicate, and no kiosk can
-- suppress another's events by reusing their ids.
CREATE TABLE journal (
    kiosk_id    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (kiosk_id, event_id)
);

CREATE INDEX journal_at ON journal (at);

-- No names, no ID numbers: the verifier, the time, the code (when readable) and the verdict.
CREATE TABLE verification_log (
    id          INTEGER PRIMARY KEY,
    verifier_id INTEGER NOT NULL REFERENCES principals (id),
    at          TEXT    NOT NULL,
    code_id     TEXT    CHECK (code_id IS NULL OR length(code_id) = 32),
    result      TEXT    NOT NULL
);

CREATE INDEX verification_log_code_id ON verification_log (code_id);

CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
