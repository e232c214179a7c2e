"""Identity under attack and in daily use, through the gateway: concurrent refreshes, sign-out, password reset,
guessing from one address, and a squatted staff address.

Each test speaks from a loopback address of its own (any 127.x.y.z reaches the gateway's 127.0.0.1 listener),
so the gateway's per-address limit on the auth routes and identity's per-address counters stay per test.
"""
import email
import email.policy
import re
import subprocess
import threading
import time
import uuid

from client import Gateway, wait_for
from conftest import REPO, VENV_PYTHON

PASSWORD = "E2e-Passw0rd-long!"
RESET_LINK = re.compile(r"https?://\S+/reset-password#token=([A-Za-z0-9_-]+)")


def identity_answer(gateway: Gateway, path: str, body: dict):
    """POST to identity, waiting out the *gateway's* 429 (its per-address rate limit on auth routes) so the
    test sees identity's own answer, whatever it is (identity's 429s are returned, not waited for)."""
    for _ in range(60):
        response = gateway.post(path, body)
        if response.status != 429 or "from this address" not in (response.json or {}).get("detail", ""):
            return response
        time.sleep(float(response.header("Retry-After") or 1))
    raise AssertionError(f"the gateway kept limiting {path}")


def new_customer(gateway: Gateway) -> tuple[str, dict]:
    """A registered customer: (email, its first token pair)."""
    address = f"e2e-sec-{uuid.uuid4().hex[:12]}@example.com"
    created = identity_answer(gateway, "/api/v1/auth/register", {"email": address, "password": PASSWORD,
                                                                 "name": "Security Tester"})
    assert created.status == 201, created
    pair = identity_answer(gateway, "/api/v1/auth/token", {"email": address, "password": PASSWORD})
    assert pair.status == 200, pair
    return address, pair.json


def refresh(gateway: Gateway, token: str):
    return identity_answer(gateway, "/api/v1/auth/token/refresh", {"refresh": token})


def test_two_tabs_refreshing_at_once_stay_signed_in_while_a_late_reuse_revokes_the_sign_in(shop):
    gateway = shop.gateway(source_address="127.0.0.21", retry_when_limited=False)
    _, pair = new_customer(gateway)
    barrier, answers = threading.Barrier(2), []

    def tab():
        barrier.wait(timeout=10)
        answers.append(refresh(gateway, pair["refresh"]))

    tabs = [threading.Thread(target=tab) for _ in range(2)]
    for thread in tabs:
        thread.start()
    for thread in tabs:
        thread.join(timeout=60)

    assert [a.status for a in answers] == [200, 200], answers
    assert answers[0].json["refresh"] == answers[1].json["refresh"]
    current = answers[0].json
    assert gateway.get("/api/v1/auth/me", token=current["access"]).status == 200

    grace = int(shop.env["SHOP_JWT_REFRESH_REUSE_GRACE_SECONDS"])
    time.sleep(grace + 1)
    late = refresh(gateway, pair["refresh"])  # the first token again, long after: someone kept a copy

    assert late.status == 401 and late.json["type"] == "urn:shop:problem:invalid-token", late
    assert refresh(gateway, current["refresh"]).status == 401  # the whole sign-in is revoked


def test_logout_makes_the_refresh_token_401(shop):
    gateway = shop.gateway(source_address="127.0.0.22", retry_when_limited=False)
    _, pair = new_customer(gateway)

    signed_out = identity_answer(gateway, "/api/v1/auth/logout", {"refresh": pair["refresh"]})

    assert signed_out.status == 204, signed_out
    refused = refresh(gateway, pair["refresh"])
    assert refused.status == 401 and refused.content_type == "application/problem+json", refused


def _reset_tokens(shop, address: str) -> list[str]:
    tokens = []
    for raw in shop.mail_for(address):
        message = email.message_from_string(raw, policy=email.policy.default)
        if message["To"] != address or "password" not in message["Subject"].lower():
            continue
        text = message.get_body(preferencelist=("plain",)).get_content()
        tokens += RESET_LINK.findall(text)
    return tokens


def test_a_password_reset_link_from_the_email_works_once_then_400(shop):
    gateway = shop.gateway(source_address="127.0.0.23", retry_when_limited=False)
    address, old_pair = new_customer(gateway)

    asked = identity_answer(gateway, "/api/v1/auth/password-reset", {"email": address})
    nobody = identity_answer(gateway, "/api/v1/auth/password-reset", {"email": f"nobody-{address}"})

    assert asked.status == nobody.status == 202 and asked.body == nobody.body, (asked, nobody)
    [token] = wait_for(lambda: _reset_tokens(shop, address), timeout=60, what="the reset email in the mailbox")
    assert f"{shop.env['SHOP_PUBLIC_URL']}/reset-password#token={token}" in "".join(shop.mail_for(address))

    new_password = "Brand-new-passw0rd!"
    done = identity_answer(gateway, "/api/v1/auth/password-reset/confirm", {"token": token,
                                                                            "password": new_password})
    assert done.status == 204, done
    assert identity_answer(gateway, "/api/v1/auth/token", {"email": address, "password": new_password}).status == 200
    assert identity_answer(gateway, "/api/v1/auth/token", {"email": address, "password": PASSWORD}).status == 401
    assert refresh(gateway, old_pair["refresh"]).status == 401  # every earlier sign-in ended with the reset

    again = identity_answer(gateway, "/api/v1/auth/password-reset/confirm", {"token": token,
                                                                             "password": "Another-passw0rd!"})
    assert again.status == 400 and again.json["type"] == "urn:shop:problem:invalid-reset-token", again


def test_twelve_wrong_passwords_from_one_address_leave_the_owner_signing_in_from_another(shop):
    owner = shop.gateway(source_address="127.0.0.9", retry_when_limited=False)
    attacker = shop.gateway(source_address="127.0.0.7", retry_when_limited=False)
    address, _ = new_customer(owner)

    answers = [identity_answer(attacker, "/api/v1/auth/token", {"email": address, "password": f"guess-{n}"})
               for n in range(12)]

    statuses = [a.status for a in answers]
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    assert answers[-1].json["type"] == "urn:shop:problem:login-throttled", answers[-1]
    assert int(answers[-1].header("Retry-After")) > 0
    # the attacker naming another address in X-Forwarded-For changes nothing: identity takes the gateway's entry
    forged = attacker.post("/api/v1/auth/token", {"email": address, "password": PASSWORD},
                           headers={"X-Forwarded-For": "127.0.0.9"})
    assert forged.status == 429, forged

    signed_in = identity_answer(owner, "/api/v1/auth/token", {"email": address, "password": PASSWORD})
    assert signed_in.status == 200, signed_in


def test_registering_the_admin_address_first_does_not_make_the_attacker_staff(shop):
    gateway = shop.gateway(source_address="127.0.0.24", retry_when_limited=False)
    admin_address = f"new-admin-{uuid.uuid4().hex[:8]}@example.com"
    squatted = identity_answer(gateway, "/api/v1/auth/register", {"email": admin_address, "password": PASSWORD,
                                                                   "name": "Not The Admin"})
    assert squatted.status == 201, squatted

    # the operator then starts the shop with this address as SHOP_ADMIN_EMAIL: the launcher seeds the staff account
    seeded = subprocess.run([str(VENV_PYTHON), "manage.py", "create_staff"], cwd=REPO / "services" / "identity",
                            env={**shop.env, "SHOP_ADMIN_EMAIL": admin_address,
                                 "SHOP_ADMIN_PASSWORD": "the-operators-password"},
                            capture_output=True, text=True, timeout=120)
    assert seeded.returncode == 0, seeded.stderr

    access = identity_answer(gateway, "/api/v1/auth/token", {"email": admin_address, "password": PASSWORD})
    assert access.status == 200, access
    me = gateway.get("/api/v1/auth/me", token=access.json["access"])
    assert me.json["role"] == "customer", me
    staff_only = gateway.get("/api/v1/emails/", token=access.json["access"])
    assert staff_only.status == 403, staff_only
    assert identity_answer(gateway, "/api/v1/auth/token", {"email": admin_address,
                                                           "password": "the-operators-password"}).status == 401
