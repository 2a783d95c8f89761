-- Schema version 1 of the kiosk journal (`journal.db` in the kiosk's data directory).
--
-- Conventions (as in the central's database):
-- - timestamps are RFC 3339 text in UTC with nine fraction digits
--   (`2025-03-14T01:26:53.000000000Z`), so that text order is time order;
-- - calendar dates are ISO text (`2025-03-14`);
-- - enumerations are their snake_case wire names;
-- - event ids, request ids and session ids are hyphenated lowercase UUIDs, code ids 32 lowercase
--   hex characters;
-- - `seq` keeps insertion order (AUTOINCREMENT: never reused).
--
-- No personal data: no full name, no raw ID number, no photo. A person appears only as
-- `attempts.person_key`, a keyed hash (HMAC-SM3 under the kiosk's own secret), and in event
-- details in masked form.

-- Every event, uploaded to the central exactly once: `uploaded_at` is set when the central has
-- acknowledged it.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE CHECK (length(id) = 36),
    at          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    detail_json TEXT    NOT NULL,
    uploaded_at TEXT
);

CREATE INDEX events_pending ON events (seq) WHERE uploaded_at IS NULL;
CREATE INDEX events_kind_at ON events (kind, at);

-- One row per issuance attempt (one request id), from before its request leaves to its print
-- outcome. The code's columns are set exactly when the central has answered with a code.
CREATE TABLE attempts (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id          TEXT    NOT NULL UNIQUE CHECK (length(request_id) = 36),
    session             TEXT    NOT NULL CHECK (length(session) = 36),
    action              TEXT    NOT NULL CHECK (action IN ('apply', 'reissue')),
    person_key          TEXT    CHECK (person_key IS NULL OR length(person_key) = 64),
    state               TEXT    NOT NULL
                        CHECK (state IN ('requested', 'issued', 'not_issued', 'printed', 'print_failed')),
    requested_at        TEXT    NOT NULL,
    code_id             TEXT    CHECK (code_id IS NULL OR length(code_id) = 32),
    kid                 INTEGER CHECK (kid BETWEEN 0 AND 255),
    serial              INTEGER CHECK (serial BETWEEN 0 AND 65535),
    issued_on           TEXT,
    expires_on          TEXT,
    qr_text             TEXT,
    issued_at           TEXT,
    not_issued_reason   TEXT,
    print_failure       TEXT,
    print_detail        TEXT,
    outcome_at          TEXT,
    outcome_reported    INTEGER NOT NULL DEFAULT 0 CHECK (outcome_reported IN (0, 1)),
    CHECK ((code_id IS NULL) = (state IN ('requested', 'not_issued'))),
    CHECK ((code_id IS NULL) = (kid IS NULL)),
    CHECK ((code_id IS NULL) = (serial IS NULL)),
    CHECK ((code_id IS NULL) = (issued_on IS NULL)),
    CHECK ((code_id IS NULL) = (expires_on IS NULL)),
    CHECK ((code_id IS NULL) = (qr_text IS NULL)),
    CHECK ((code_id IS NULL) = (issued_at IS NULL)),
    CHECK ((not_issued_reason IS NULL) = (state <> 'not_issued')),
    CHECK ((outcome_at IS NULL) = (state NOT IN ('printed', 'print_failed'))),
    CHECK ((print_failure IS NULL) = (state <> 'print_failed')),
    CHECK (print_detail IS NULL OR print_failure IS NOT NULL),
    CHECK (outcome_reported = 0 OR outcome_at IS NOT NULL)
);

CREATE INDEX attempts_state ON attempts (state);
CREATE INDEX attempts_session ON attempts (session);
CREATE INDEX attempts_unreported ON attempts (seq)
    WHERE outcome_at IS NOT NULL AND outcome_reported = 0;
