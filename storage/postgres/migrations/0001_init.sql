-- Certificates, chains and header values stored once by content; observation
-- spans per (target, address); the change timeline. Times are UTC unix
-- seconds. The same step as the SQLite backend's 0001_init.sql.

-- One row per certificate, keyed by the lowercase hex SHA-256 of its DER.
CREATE TABLE certs (
    sha256     text    NOT NULL PRIMARY KEY,
    der        bytea   NOT NULL,
    subject    text    NOT NULL,
    issuer     text    NOT NULL,
    serial     text    NOT NULL,
    not_before bigint  NOT NULL,
    not_after  bigint  NOT NULL,
    pin        text    NOT NULL, -- base64 SHA-256 of the SubjectPublicKeyInfo
    is_ca      boolean NOT NULL,
    key_type   text    NOT NULL
);

-- An ordered list of certificates, stored once: hash is the SHA-256 of the
-- concatenated SHA-256 digests of its certificates in order. An identity
-- never gives a pruned chain's id to another chain.
CREATE TABLE chains (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash bytea  NOT NULL UNIQUE
);

CREATE TABLE chain_certs (
    chain_id    bigint  NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
    position    integer NOT NULL, -- 0 is the leaf
    cert_sha256 text    NOT NULL REFERENCES certs (sha256),
    PRIMARY KEY (chain_id, position)
);

CREATE INDEX chain_certs_cert ON chain_certs (cert_sha256);

-- A parsed header value (Public-Key-Pins, its report-only twin, or
-- Strict-Transport-Security), stored once: hash is the SHA-256 of kind and
-- the parsed JSON.
CREATE TABLE header_values (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash   bytea  NOT NULL UNIQUE,
    kind   text   NOT NULL CHECK (kind IN ('pkp', 'hsts')),
    parsed text   NOT NULL -- JSON of pinwatchd.PinHeader or pinwatchd.HSTSHeader
);

-- One row per (target, address) ever probed; never deleted.
CREATE TABLE addresses (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target  text   NOT NULL,
    address text   NOT NULL,
    UNIQUE (target, address)
);

-- A run of equal observations of one address. An observation equal to the
-- latest span of its address moves last_seen and probe_count; any other adds
-- a span. error_kind is empty when the probe succeeded.
--
-- A round updates every unchanged span once, in one transaction: with pages
-- at most 45% full, each page has room for the new versions of all its rows,
-- so every such update is a HOT update that the next round prunes, and the
-- table does not grow with probes.
CREATE TABLE spans (
    id                bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address_id        bigint  NOT NULL REFERENCES addresses (id),
    first_seen        bigint  NOT NULL,
    last_seen         bigint  NOT NULL,
    probe_count       bigint  NOT NULL,
    sni               text    NOT NULL,
    tls_version       text    NOT NULL,
    served_chain_id   bigint  REFERENCES chains (id),
    verified_chain_id bigint  REFERENCES chains (id),
    pkp_id            bigint  REFERENCES header_values (id),
    pkp_ro_id         bigint  REFERENCES header_values (id),
    hsts_id           bigint  REFERENCES header_values (id),
    trusted           boolean NOT NULL,
    untrusted_reason  text    NOT NULL,
    hostname_valid    boolean NOT NULL,
    hostname_error    text    NOT NULL,
    http_method       text, -- the HTTP columns are NULL when not HTTP-probed
    http_status       integer,
    http_error        text,
    error_kind        text    NOT NULL,
    error_message     text    NOT NULL
) WITH (fillfactor = 45);

-- SQLite's indexes end with the rowid implicitly; here the id is explicit,
-- so "the latest span of an address" is one index descent.
CREATE INDEX spans_address ON spans (address_id, id);
CREATE INDEX spans_address_served ON spans (address_id, id) WHERE served_chain_id IS NOT NULL;
CREATE INDEX spans_served_chain ON spans (served_chain_id) WHERE served_chain_id IS NOT NULL;
CREATE INDEX spans_verified_chain ON spans (verified_chain_id) WHERE verified_chain_id IS NOT NULL;
CREATE INDEX spans_pkp ON spans (pkp_id) WHERE pkp_id IS NOT NULL;
CREATE INDEX spans_pkp_ro ON spans (pkp_ro_id) WHERE pkp_ro_id IS NOT NULL;
CREATE INDEX spans_hsts ON spans (hsts_id) WHERE hsts_id IS NOT NULL;

-- The change timeline (SPEC §5 history). Leaf fields are copied, not
-- referenced, so pruning certificates never changes history.
CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time            bigint NOT NULL,
    address_id      bigint NOT NULL REFERENCES addresses (id),
    event           text   NOT NULL
        CHECK (event IN ('first_seen', 'chain_changed', 'probe_failed', 'recovered')),
    class           text   NOT NULL, -- chain_changed only, else empty
    old_leaf_pin    text   NOT NULL,
    new_leaf_pin    text   NOT NULL,
    old_leaf_sha256 text   NOT NULL,
    new_leaf_sha256 text   NOT NULL,
    issuer          text   NOT NULL,
    not_after       bigint, -- NULL when the event has no leaf
    error_kind      text   NOT NULL,
    error_message   text   NOT NULL
);

CREATE INDEX events_time ON events (time, id);
CREATE INDEX events_address_time ON events (address_id, time, id);
