-- Signatures already accepted, kept while they could still be replayed, for the opt-in
-- `auth.reject_replays`. In the database, not in memory, so that a request replayed to another
-- instance sharing the database is refused too.
CREATE TABLE seen_signatures (
    -- The hex HMAC of the request: it covers the method, path, query, signed headers (host and
    -- X-Sdk-Date among them) and body, so equal signatures mean the same request.
    signature  text PRIMARY KEY CHECK (char_length(signature) BETWEEN 1 AND 128),
    -- When the signature's X-Sdk-Date leaves the clock-skew window: no replay is possible after
    -- that, so the row may go.
    expires_at timestamptz NOT NULL
);

CREATE INDEX seen_signatures_expires_at_idx ON seen_signatures (expires_at);
