"""JWKS caching against a real, deliberately slow identity stand-in on 127.0.0.1: stale keys keep working while
one background refresh runs, refreshes are rate-limited, and only an unknown kid waits (and only so long)."""
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from django.test import override_settings

from shopkit.auth import KeySet
from shopkit import testing
from shopkit.testing import auth_header, wait_until

pytestmark = pytest.mark.django_db


class SlowJwks:
    """An HTTP server answering GET with ``document``; while ``gate`` is clear, every answer waits for it."""

    def __init__(self):
        self.kids = ["old"]
        self.gate = threading.Event()
        self.gate.set()
        self.requests = 0  # requests received
        self.answered = 0  # requests let through the gate
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                outer.requests += 1
                outer.gate.wait(30)
                outer.answered += 1  # before writing: the client may act on the answer before this line runs
                body = json.dumps(outer.document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/auth/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def document(self) -> dict:
        keys = []
        for kid in self.kids:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(testing.test_private_key(kid).public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def close(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def identity():
    server = SlowJwks()
    yield server
    server.close()


def jwks_settings(url: str, **conf) -> dict:
    return {"JWKS_URL": url, "PUBLIC_KEYS": {}, "KEY_LOADER": "", "JWKS_CACHE_SECONDS": 300,
            "JWKS_MIN_REFETCH_SECONDS": 0, "JWKS_WAIT_SECONDS": 3, **conf}


def test_stale_keys_are_served_while_one_background_refresh_runs(identity):
    keys = KeySet()
    with override_settings(SHOPKIT_JWT=jwks_settings(identity.url, JWKS_CACHE_SECONDS=0)):
        assert keys.get("old") is not None  # a fresh process: the first fetch is waited for
        assert identity.requests == identity.answered == 1
        identity.gate.clear()  # identity turns slow, and has rotated in a new key meanwhile
        identity.kids = ["old", "new"]
        with ThreadPoolExecutor(16) as pool:
            found = list(pool.map(lambda _: keys.get("old"), range(64)))
        # every caller got the stale key while the refresh still hangs, and only one refresh was started
        assert all(key is not None for key in found)
        assert identity.answered == 1
        wait_until(lambda: identity.requests == 2, what="the background refresh to reach identity")
        assert identity.requests == 2
        identity.gate.set()
        wait_until(lambda: keys.get("new") is not None, what="the refreshed keys")


def test_an_unknown_kid_waits_for_the_one_refresh_at_most_the_wait_and_is_then_refused(identity):
    keys = KeySet()
    identity.gate.clear()
    with override_settings(SHOPKIT_JWT=jwks_settings(identity.url, JWKS_WAIT_SECONDS=0.3)):
        with ThreadPoolExecutor(8) as pool:
            found = list(pool.map(lambda _: keys.get("old"), range(8)))
        assert found == [None] * 8  # identity has not answered: no key to verify with, so refused
        assert identity.answered == 0 and identity.requests == 1  # one fetch for all of them
        identity.gate.set()
        wait_until(lambda: keys.get("old") is not None, what="the key once identity answers")


def test_refreshes_share_one_rate_limit_for_stale_keys_and_unknown_kids(identity):
    keys = KeySet()
    with override_settings(SHOPKIT_JWT=jwks_settings(identity.url, JWKS_CACHE_SECONDS=0,
                                                     JWKS_MIN_REFETCH_SECONDS=3600)):
        assert keys.get("old") is not None
        for _ in range(20):  # stale every time, and a flood of junk kids
            assert keys.get("old") is not None
            assert keys.get("junk") is None
        assert identity.requests == 1


def test_a_failing_refresh_keeps_the_keys_it_had(identity):
    keys = KeySet()
    with override_settings(SHOPKIT_JWT=jwks_settings(identity.url, JWKS_CACHE_SECONDS=0)):
        assert keys.get("old") is not None
        identity.close()  # identity is gone: connection refused
        assert keys.get("old") is not None
        wait_until(lambda: keys._refreshing is None, what="the failed refresh to end")
        assert keys.get("old") is not None


def test_a_request_with_a_known_key_is_answered_while_identity_hangs(client, identity):
    from shopkit import auth

    conf = jwks_settings(identity.url, JWKS_CACHE_SECONDS=0, JWKS_WAIT_SECONDS=30)
    with override_settings(SHOPKIT_JWT=conf):
        assert client.get("/whoami", **auth_header(kid="old")).status_code == 200
        identity.gate.clear()
        for _ in range(5):  # the key is stale on every request; none of them waits for the hanging refresh
            assert client.get("/whoami", **auth_header(kid="old")).status_code == 200
        assert identity.answered == 1 and identity.requests <= 2
        assert auth.KEYS._refreshing is not None  # the refresh is still hanging on identity


def test_a_warm_up_fetches_the_keys_before_the_first_token_needs_them(identity):
    keys = KeySet()
    with override_settings(SHOPKIT_JWT=jwks_settings(identity.url, JWKS_MIN_REFETCH_SECONDS=3600)):
        keys.warm()
        wait_until(lambda: keys._refreshing is None, what="the warm-up fetch to end")
        assert identity.requests == 1
        identity.gate.clear()  # identity turns slow: the first token must not need it any more
        assert keys.get("old") is not None
        keys.warm()  # keys at hand: nothing to warm
        assert identity.requests == 1


def test_a_failed_warm_up_leaves_the_first_request_free_to_fetch(identity):
    keys = KeySet()
    with override_settings(SHOPKIT_JWT=jwks_settings("http://127.0.0.1:9/jwks.json",  # discard port: refused
                                                     JWKS_MIN_REFETCH_SECONDS=3600)):
        keys.warm()
        wait_until(lambda: keys._refreshing is None, what="the warm-up fetch to fail")
    with override_settings(SHOPKIT_JWT=jwks_settings(identity.url, JWKS_MIN_REFETCH_SECONDS=3600)):
        assert keys.get("old") is not None  # not held back by the rate limit the failed warm-up would have set
        assert identity.requests == 1


def test_every_web_worker_warms_the_keys_as_it_starts(monkeypatch):
    from shopkit import auth, gunicorn_conf

    warmed = []
    monkeypatch.setattr(auth.KEYS, "warm", lambda: warmed.append(True))
    gunicorn_conf.post_worker_init(worker=None)
    assert warmed == [True]
