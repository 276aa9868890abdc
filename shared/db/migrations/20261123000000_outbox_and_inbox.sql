-- Messaging tables shared by every service: the transactional outbox (events written in the
-- same transaction as the change they announce, published later by the relay) and the consumer
-- inbox (message ids each consumer has already processed).

CREATE TABLE outbox_messages (
    -- Publication order: the relay takes pending rows by ascending id.
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Full NATS subject, e.g. 'dti.submission.submitted.v1'.
    subject          TEXT        NOT NULL CHECK (subject <> ''),
    -- Value of the Nats-Msg-Id header: a stable id of the fact, for deduplication.
    msg_id           TEXT        NOT NULL UNIQUE CHECK (msg_id <> ''),
    -- Encoded message body (protobuf).
    payload          BYTEA       NOT NULL,
    -- Extra headers to publish with, e.g. W3C traceparent/tracestate: {"name": "value"}.
    headers          JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set once JetStream acknowledged the message.
    published_at     TIMESTAMPTZ,
    -- Failed publish attempts and the last failure, for operators.
    publish_attempts INTEGER     NOT NULL DEFAULT 0,
    last_error       TEXT
);

CREATE INDEX outbox_messages_pending_idx ON outbox_messages (id) WHERE published_at IS NULL;

-- Wakes the relay (LISTEN dti_outbox) when new rows commit.
CREATE FUNCTION outbox_messages_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dti_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_messages_notify
    AFTER INSERT ON outbox_messages
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_messages_notify();

CREATE TABLE inbox_messages (
    -- Durable consumer name, e.g. 'scoring-on-submission'.
    consumer     TEXT        NOT NULL,
    -- Nats-Msg-Id of the processed message.
    msg_id       TEXT        NOT NULL,
    subject      TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, msg_id)
);
