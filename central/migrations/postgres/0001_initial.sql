-- Schema version 1 of the central service's PostgreSQL database: the tables, columns, checks and
-- indexes of migrations/sqlite/0001_initial.sql, one for one, so that both backends run the same
-- statements.
--
-- Conventions (as in SQLite):
-- - timestamps are RFC 3339 text in UTC with nine fraction digits
--   (`2025-03-14T01:26:53.000000000Z`), so that text order is time order;
-- - calendar dates are ISO text (`2025-03-14`);
-- - enumerations are their snake_case wire names;
-- - token hashes and certificate fingerprints are 32-byte BYTEA, code ids 32 lowercase hex
--   characters, request and event ids hyphenated lowercase UUIDs;
-- - every integer is BIGINT and every row id a BIGINT identity;
-- - every text column compares byte by byte (COLLATE "C", SQLite's BINARY), whatever the
--   database's locale.
--
-- Personal data (full ID number, name, photo) lives only in `citizens`. Every other table refers
-- to a person by the citizen's row id.

CREATE TABLE citizens (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_number         TEXT COLLATE "C" NOT NULL UNIQUE,
    name              TEXT COLLATE "C" NOT NULL,
    photo_mime        TEXT COLLATE "C",
    photo             BYTEA,
    color             TEXT COLLATE "C" NOT NULL CHECK (color IN ('green', 'yellow', 'red')),
    realname_verified BIGINT NOT NULL CHECK (realname_verified IN (0, 1)),
    CHECK ((photo_mime IS NULL) = (photo IS NULL))
);

CREATE TABLE codes (
    code_id         TEXT COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(code_id) = 32),
    citizen_id      BIGINT NOT NULL REFERENCES citizens (id),
    kid             BIGINT NOT NULL CHECK (kid BETWEEN 0 AND 255),
    serial          BIGINT NOT NULL CHECK (serial BETWEEN 1 AND 65535),
    issued_on       TEXT COLLATE "C" NOT NULL,
    expires_on      TEXT COLLATE "C" NOT NULL,
    qr_text         TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'superseded', 'lost')),
    request_id      TEXT COLLATE "C" NOT NULL UNIQUE,
    action          TEXT COLLATE "C" NOT NULL CHECK (action IN ('apply', 'reissue')),
    kiosk_id        TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    printed_at      TEXT COLLATE "C",
    print_failed_at TEXT COLLATE "C",
    print_failure   TEXT COLLATE "C",
    ended_at        TEXT COLLATE "C",
    UNIQUE (citizen_id, serial),
    CHECK ((print_failed_at IS NULL) = (print_failure IS NULL)),
    CHECK ((status = 'active') = (ended_at IS NULL))
);

-- At most one active code per person, whatever the application does.
CREATE UNIQUE INDEX codes_one_active_per_citizen ON codes (citizen_id) WHERE status = 'active';

CREATE TABLE sessions (
    token_hash BYTEA  NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    kiosk_id   TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);

CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE principals (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role       TEXT COLLATE "C" NOT NULL CHECK (role IN ('verifier', 'portal', 'operator')),
    name       TEXT COLLATE "C" NOT NULL,
    org        TEXT COLLATE "C" NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE kiosks (
    kiosk_id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name             TEXT COLLATE "C" NOT NULL,
    address          TEXT COLLATE "C" NOT NULL,
    hours            TEXT COLLATE "C" NOT NULL,
    cert_fingerprint BYTEA NOT NULL UNIQUE CHECK (length(cert_fingerprint) = 32)
);

CREATE TABLE heartbeats (
    kiosk_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY
                REFERENCES kiosks (kiosk_id) ON DELETE CASCADE,
    received_at TEXT COLLATE "C" NOT NULL,
    report_json TEXT COLLATE "C" NOT NULL
);

-- Keyed by kiosk and event id: a kiosk re-sending an event is a duplicate, and no kiosk can
-- suppress another's events by reusing their ids.
CREATE TABLE journal (
    kiosk_id    TEXT COLLATE "C" NOT NULL,
    event_id    TEXT COLLATE "C" NOT NULL,
    at          TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,
    detail_json TEXT COLLATE "C" NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (kiosk_id, event_id)
);

CREATE INDEX journal_at ON journal (at);

-- No names, no ID numbers: the verifier, the time, the code (when readable) and the verdict.
CREATE TABLE verification_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verifier_id BIGINT NOT NULL REFERENCES principals (id),
    at          TEXT COLLATE "C" NOT NULL,
    code_id     TEXT COLLATE "C" CHECK (code_id IS NULL OR length(code_id) = 32),
    result      TEXT COLLATE "C" NOT NULL
);

CREATE INDEX verification_log_code_id ON verification_log (code_id);

CREATE TABLE settings (
    key   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);
