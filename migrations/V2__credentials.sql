-- Credentials, each tied to the domain it acts for.

-- Access keys sign requests (SDK-HMAC-SHA256). HMAC verification needs the secret itself, so
-- it is stored as issued; it is never logged nor returned after creation.
CREATE TABLE access_keys (
    access_key           text PRIMARY KEY CHECK (char_length(access_key) BETWEEN 1 AND 128),
    domain_id            text NOT NULL CHECK (char_length(domain_id) BETWEEN 1 AND 255),
    secret_key           text NOT NULL CHECK (char_length(secret_key) BETWEEN 1 AND 256),
    created_at           timestamptz NOT NULL DEFAULT now(),
    revoked_at           timestamptz,
    -- Failed signatures in a row; reaching the limit locks the key until `locked_until`.
    consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    locked_until         timestamptz
);

-- Tokens are bearer secrets: only their SHA-256 is kept.
CREATE TABLE auth_tokens (
    id           uuid PRIMARY KEY,
    token_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    domain_id    text NOT NULL CHECK (char_length(domain_id) BETWEEN 1 AND 255),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
