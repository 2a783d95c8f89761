-- Schema version 3: a session remembers the code its identify showed (active or lost), so that a
-- reissue replaces exactly that code. Two kiosks reissuing for one person at the same moment then
-- end with one new code and one refusal (conflict_code_changed). Sessions made before this
-- version have none, and a reissue in them is refused: the kiosk identifies again.

ALTER TABLE sessions ADD COLUMN shown_code_id TEXT COLLATE "C"
    CHECK (shown_code_id IS NULL OR length(shown_code_id) = 32);
