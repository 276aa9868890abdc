-- The outbox relay polls instead of listening: a transaction that runs NOTIFY holds a
-- database-wide lock through its commit, which serialised every transaction writing an event
-- behind the others' disk flushes. Polling the partial index of pending rows every few
-- milliseconds costs far less.
DROP TRIGGER outbox_messages_notify ON outbox_messages;
DROP FUNCTION outbox_messages_notify();
