"""What the NGINX gateway adds in front of the services: limits, TLS, request ids, CORS, headers, caching, docs."""
import gzip
import json
import re
import uuid

from client import Gateway, wait_for


def test_login_attempts_beyond_the_limit_get_a_429_problem(shop):
    # from an address of its own, so the rest of the suite keeps its own allowance
    attacker = shop.gateway(source_address="127.0.0.77", retry_when_limited=False)
    statuses = []
    for _ in range(60):
        # a new account name each time, so identity's own per-account throttle stays out of the picture
        guess = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "wrong-guess"}
        response = attacker.post("/api/v1/auth/token", guess)
        statuses.append(response.status)
        if response.status == 429:
            break
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == 429 and "from this address" in response.json["detail"], response
    assert int(response.header("Retry-After")) >= 1
    # other clients are not affected (another address of its own: the suite's usual one may have spent its
    # allowance on the sign-ins of other tests)
    other = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "x"}
    bystander = shop.gateway(source_address="127.0.0.78", retry_when_limited=False)
    assert bystander.post("/api/v1/auth/token", other).status == 401


def test_https_serves_the_shop_with_hsts_and_plain_http_does_not_send_it(shop, gateway):
    secure = Gateway(shop.https_url, cafile=str(shop.cert))
    response = secure.get("/api/v1/categories/")
    assert response.status == 200, response
    assert response.header("Strict-Transport-Security").startswith("max-age=")
    assert gateway.get("/api/v1/categories/").header("Strict-Transport-Security") is None


def test_a_request_id_is_kept_when_given_made_when_missing_and_logged(shop, gateway):
    given = f"e2e-{uuid.uuid4().hex}"
    kept = gateway.get("/api/v1/auth/jwks.json", headers={"X-Request-ID": given})
    assert kept.status == 200 and kept.header("X-Request-ID") == given
    made = gateway.get("/api/v1/auth/jwks.json").header("X-Request-ID")
    assert made and made != given
    assert gateway.get("/api/v1/auth/jwks.json", headers={"X-Request-ID": "bad id\""}).header("X-Request-ID") \
        not in (None, "bad id\"")

    def logged():
        lines = (shop.data_dir / "logs" / "gateway-access.log").read_text().splitlines()
        return [json.loads(line) for line in lines if given in line]
    [entry] = wait_for(logged, what="the access log line")
    assert entry["request_id"] == given and entry["uri"] == "/api/v1/auth/jwks.json" and entry["status"] == 200


def test_a_body_over_the_limit_gets_a_413_problem(gateway, customer):
    _, token = customer
    response = gateway.request("POST", "/api/v1/orders/", token=token, raw=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                               headers={"Content-Type": "application/json"})
    assert response.status == 413 and response.content_type == "application/problem+json", response
    assert response.json["status"] == 413


def test_cors_preflight_is_answered_for_an_allowed_origin_and_refused_for_another(gateway):
    asks = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    allowed = gateway.request("OPTIONS", "/api/v1/orders/", headers={"Origin": "https://allowed.example", **asks})
    assert allowed.status == 204
    assert allowed.header("Access-Control-Allow-Origin") == "https://allowed.example"
    assert "POST" in allowed.header("Access-Control-Allow-Methods")
    assert "authorization" in allowed.header("Access-Control-Allow-Headers").lower()

    refused = gateway.request("OPTIONS", "/api/v1/orders/", headers={"Origin": "https://evil.example", **asks})
    assert refused.status == 403 and refused.content_type == "application/problem+json"
    assert refused.header("Access-Control-Allow-Origin") is None

    simple = gateway.get("/api/v1/categories/", headers={"Origin": "https://allowed.example"})
    assert simple.header("Access-Control-Allow-Origin") == "https://allowed.example"
    assert gateway.get("/api/v1/categories/", headers={"Origin": "https://evil.example"}) \
        .header("Access-Control-Allow-Origin") is None


def test_the_spa_falls_back_to_index_html_with_security_headers(gateway):
    page = gateway.get("/orders/some/deep/link", headers={"Accept": "text/html"})
    assert page.status == 200 and page.content_type.startswith("text/html")
    assert page.body == gateway.get("/", headers={"Accept": "text/html"}).body
    csp = page.header("Content-Security-Policy")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert page.header("X-Content-Type-Options") == "nosniff"
    assert page.header("X-Frame-Options") == "DENY"
    assert page.header("Referrer-Policy")


def test_api_responses_carry_each_security_header_once(gateway):
    response = gateway.get("/api/v1/products/?page_size=1")
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy",
                 "Content-Security-Policy", "X-Request-ID"):
        assert len(response.headers.get_all(name) or []) == 1, (name, response.headers.get_all(name))
    assert response.header("Referrer-Policy") == "strict-origin-when-cross-origin"


def test_unknown_api_routes_and_json_are_problems_and_responses_are_gzipped(gateway):
    missing = gateway.get("/api/v2/nothing")
    assert missing.status == 404 and missing.content_type == "application/problem+json"
    zipped = gateway.get("/api/v1/products/?page_size=50", headers={"Accept-Encoding": "gzip"})
    assert zipped.header("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(zipped.body))["results"]


def test_swagger_ui_is_served_locally_for_the_four_openapi_documents(gateway):
    page = gateway.get("/api/docs/", headers={"Accept": "text/html"})
    assert page.status == 200 and b"swagger-ui" in page.body
    assert not re.search(rb"https?://", page.body.split(b"<body>")[1]), "Swagger UI must not load from a CDN"
    assert gateway.get("/api/docs/swagger-ui-bundle.js").status == 200
    initializer = gateway.get("/api/docs/swagger-initializer.js").body.decode()
    for service in ("identity", "product", "order", "email"):
        assert f"/api/v1/schema/{service}/" in initializer
        # what Swagger UI asks for
        document = gateway.get(f"/api/v1/schema/{service}/", headers={"Accept": "application/json, */*"})
        assert document.status == 200 and document.json["openapi"].startswith("3"), (service, document)


def test_anonymous_catalog_reads_are_cached_briefly_and_staff_changes_show_within_seconds(
        gateway, staff_token, make_product):
    product = make_product(stock=1, price="20.00")
    path = f"/api/v1/products/{product['id']}/"
    wait_for(lambda: gateway.get(path).status == 200, what="the product to be readable")
    first, second = gateway.get(path), gateway.get(path)
    assert "HIT" in (first.header("X-Cache-Status"), second.header("X-Cache-Status"))
    assert gateway.get(path, token=staff_token).header("X-Cache-Status") == "BYPASS"

    changed = gateway.patch(path, {"price": "21.00"}, token=staff_token)
    assert changed.status == 200, changed
    wait_for(lambda: gateway.get(path).json["price"] == "21.00", timeout=5, interval=0.2,
             what="anonymous readers to see the new price")
