-- Certificates, chains and header values stored once by content; observation
-- spans per (target, address); the change timeline. Times are UTC unix
-- seconds.

-- One row per certificate, keyed by the lowercase hex SHA-256 of its DER.
CREATE TABLE certs (
    sha256     TEXT    NOT NULL PRIMARY KEY,
    der        BLOB    NOT NULL,
    subject    TEXT    NOT NULL,
    issuer     TEXT    NOT NULL,
    serial     TEXT    NOT NULL,
    not_before INTEGER NOT NULL,
    not_after  INTEGER NOT NULL,
    pin        TEXT    NOT NULL, -- base64 SHA-256 of the SubjectPublicKeyInfo
    is_ca      INTEGER NOT NULL CHECK (is_ca IN (0, 1)),
    key_type   TEXT    NOT NULL
) STRICT;

-- An ordered list of certificates, stored once: hash is the SHA-256 of the
-- concatenated SHA-256 digests of its certificates in order. AUTOINCREMENT
-- keeps a pruned chain's id from being given to another chain.
CREATE TABLE chains (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB    NOT NULL UNIQUE
) STRICT;

CREATE TABLE chain_certs (
    chain_id    INTEGER NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL, -- 0 is the leaf
    cert_sha256 TEXT    NOT NULL REFERENCES certs (sha256),
    PRIMARY KEY (chain_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX chain_certs_cert ON chain_certs (cert_sha256);

-- A parsed header value (Public-Key-Pins, its report-only twin, or
-- Strict-Transport-Security), stored once: hash is the SHA-256 of kind and
-- the parsed JSON.
CREATE TABLE header_values (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    hash   BLOB    NOT NULL UNIQUE,
    kind   TEXT    NOT NULL CHECK (kind IN ('pkp', 'hsts')),
    parsed TEXT    NOT NULL -- JSON of pinwatchd.PinHeader or pinwatchd.HSTSHeader
) STRICT;

-- One row per (target, address) ever probed; never deleted.
CREATE TABLE addresses (
    id      INTEGER PRIMARY KEY,
    target  TEXT    NOT NULL,
    address TEXT    NOT NULL,
    UNIQUE (target, address)
) STRICT;

-- A run of equal observations of one address. An observation equal to the
-- latest span of its address moves last_seen and probe_count; any other adds
-- a span. error_kind is empty when the probe succeeded.
CREATE TABLE spans (
    id                INTEGER PRIMARY KEY,
    address_id        INTEGER NOT NULL REFERENCES addresses (id),
    first_seen        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    probe_count       INTEGER NOT NULL,
    sni               TEXT    NOT NULL,
    tls_version       TEXT    NOT NULL,
    served_chain_id   INTEGER REFERENCES chains (id),
    verified_chain_id INTEGER REFERENCES chains (id),
    pkp_id            INTEGER REFERENCES header_values (id),
    pkp_ro_id         INTEGER REFERENCES header_values (id),
    hsts_id           INTEGER REFERENCES header_values (id),
    trusted           INTEGER NOT NULL CHECK (trusted IN (0, 1)),
    untrusted_reason  TEXT    NOT NULL,
    hostname_valid    INTEGER NOT NULL CHECK (hostname_valid IN (0, 1)),
    hostname_error    TEXT    NOT NULL,
    http_method       TEXT, -- the HTTP columns are NULL when not HTTP-probed
    http_status       INTEGER,
    http_error        TEXT,
    error_kind        TEXT    NOT NULL,
    error_message     TEXT    NOT NULL
) STRICT;

CREATE INDEX spans_address ON spans (address_id);
CREATE INDEX spans_address_served ON spans (address_id) WHERE served_chain_id IS NOT NULL;
CREATE INDEX spans_served_chain ON spans (served_chain_id) WHERE served_chain_id IS NOT NULL;
CREATE INDEX spans_verified_chain ON spans (verified_chain_id) WHERE verified_chain_id IS NOT NULL;
CREATE INDEX spans_pkp ON spans (pkp_id) WHERE pkp_id IS NOT NULL;
CREATE INDEX spans_pkp_ro ON spans (pkp_ro_id) WHERE pkp_ro_id IS NOT NULL;
CREATE INDEX spans_hsts ON spans (hsts_id) WHERE hsts_id IS NOT NULL;

-- The change timeline (SPEC §5 history). Leaf fields are copied, not
-- referenced, so pruning certificates never changes history.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    time            INTEGER NOT NULL,
    address_id      INTEGER NOT NULL REFERENCES addresses (id),
    event           TEXT    NOT NULL
        CHECK (event IN ('first_seen', 'chain_changed', 'probe_failed', 'recovered')),
    class           TEXT    NOT NULL, -- chain_changed only, else empty
    old_leaf_pin    TEXT    NOT NULL,
    new_leaf_pin    TEXT    NOT NULL,
    old_leaf_sha256 TEXT    NOT NULL,
    new_leaf_sha256 TEXT    NOT NULL,
    issuer          TEXT    NOT NULL,
    not_after       INTEGER, -- NULL when the event has no leaf
    error_kind      TEXT    NOT NULL,
    error_message   TEXT    NOT NULL
) STRICT;

CREATE INDEX events_time ON events (time);
CREATE INDEX events_address_time ON events (address_id, time);
