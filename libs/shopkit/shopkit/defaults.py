"""The schema of shopkit's settings: each one's default, written once (no imports: the launcher reads it too)."""

# The broker (`RABBITMQ_URL` → SHOPKIT_RABBITMQ_URL); any vhost.
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"

# Access-token verification (SHOPKIT_JWT); environment: SHOP_JWT_ISSUER, SHOP_JWT_AUDIENCE, SHOP_JWKS_URL,
# SHOP_JWT_PUBLIC_KEY / SHOP_JWT_PUBLIC_KEY_ID (a pinned key instead of the JWKS).
JWT = {
    "ISSUER": "shop-identity",
    "AUDIENCE": "shop",
    "JWKS_URL": "http://127.0.0.1:8001/api/v1/auth/jwks.json",  # identity's, on its default port
    "PUBLIC_KEYS": {},  # kid -> PEM, for deployments that pin keys instead of fetching JWKS
    "KEY_LOADER": "",  # dotted path to a callable returning {kid: public key}; identity uses its own store
    "JWKS_CACHE_SECONDS": 300,
    "JWKS_MIN_REFETCH_SECONDS": 5,  # a refresh starts at most this often (stale cache or unknown kid alike)
    "JWKS_TIMEOUT_SECONDS": 3,  # one fetch, in the background thread
    "JWKS_WAIT_SECONDS": 3,  # how long a token with an unknown kid waits for the refresh under way
    "LEEWAY_SECONDS": 10,
}

# The outbox relay (SHOPKIT_OUTBOX); environment: SHOP_OUTBOX_<NAME>.
OUTBOX = {
    "BATCH_SIZE": 500,
    "POLL_SECONDS": 1.0,  # fallback when no doorbell rings (another host wrote the row)
    "RETENTION_HOURS": 72,  # published rows are pruned after this
}

# The consumer (SHOPKIT_CONSUMER, plus the service's HANDLERS table); environment: SHOP_CONSUMER_<NAME>.
CONSUMER = {
    "PREFETCH": 64,  # deliveries the broker sends ahead: twice a batch, so the next batch waits while one is applied
    "BATCH_SIZE": 32,  # at most this many of the deliveries at hand are applied in one transaction (never waited for)
    "MAX_ATTEMPTS": 5,
    "RETRY_BASE_MS": 1000,  # attempt n waits base * 2^(n-1) before it is delivered again
}
