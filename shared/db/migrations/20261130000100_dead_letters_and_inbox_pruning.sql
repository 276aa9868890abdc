-- Messages a consumer gave up on after its last delivery, kept with their payload so an
-- operator can have the consumer apply them again (dti_bus::dead_letters).
CREATE TABLE dead_letters (
    consumer            TEXT        NOT NULL,
    msg_id              TEXT        NOT NULL,
    subject             TEXT        NOT NULL,
    payload             BYTEA       NOT NULL,
    headers             JSONB       NOT NULL,
    deliveries          BIGINT      NOT NULL CHECK (deliveries >= 0),
    error               TEXT        NOT NULL,
    failed_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    replay_requested_at TIMESTAMPTZ,
    replayed_at         TIMESTAMPTZ,
    replay_error        TEXT,
    PRIMARY KEY (consumer, msg_id)
);

CREATE INDEX dead_letters_pending_replay_idx ON dead_letters (consumer, replay_requested_at)
    WHERE replay_requested_at IS NOT NULL AND replayed_at IS NULL;

-- Inbox rows are pruned per consumer past their retention.
CREATE INDEX inbox_messages_processed_idx ON inbox_messages (consumer, processed_at);
