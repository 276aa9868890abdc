-- Values are written once (docs/submission.md): a whole assessment submitted at once is stored
-- in its version only, and the draft is then that version until the unit edits it again, when
-- the version's rows are copied into submission_draft_values and this flag is cleared.
ALTER TABLE submissions ADD COLUMN draft_is_latest_version boolean NOT NULL DEFAULT false;
