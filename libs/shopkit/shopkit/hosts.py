"""The shop's public address (SHOP_PUBLIC_URL): the host names a service answers to, and the links it writes.

DESIGN.md §6: only the host of SHOP_PUBLIC_URL and the loopback names are served. The gateway answers any
other ``Host`` with 421 before a request reaches a service; the services check again (a process reached
directly, or a gateway set up by hand) and never put the request's host into a link: pagination and email
links start with the public URL.
"""
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.http import JsonResponse

from shopkit.conf import env_int, env_list, env_str, parse_service_urls
from shopkit.logging import get_logger

log = get_logger(__name__)

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# Paths answered whatever the Host: probes and scrapers address a process by its IP (a Kubernetes probe sends
# `Host: <pod ip>:<port>`), and these answers carry no link and are never cached. The gateway never routes them.
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")


def public_url_from_env() -> str:
    """``SHOP_PUBLIC_URL``, default ``http://localhost:<SHOP_HTTP_PORT>`` (DESIGN.md §7), without a trailing slash."""
    url = env_str("SHOP_PUBLIC_URL", f"http://localhost:{env_int('SHOP_HTTP_PORT', 8080)}").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ImproperlyConfigured(f"SHOP_PUBLIC_URL must look like https://shop.example.com[:port], got {url!r}")
    return url


def host_of(url: str) -> str:
    """The host name of ``url`` as Django's ALLOWED_HOSTS spells it (IPv6 in brackets, no port)."""
    host = urlsplit(url).hostname or ""
    return f"[{host}]" if ":" in host else host


def allowed_hosts(public_url: str, *, also: list[str] = ()) -> list[str]:
    """The public host, the loopback names and ``also`` (hosts other processes of the shop use to reach this
    one: the JWKS URL's host, SHOP_ALLOWED_HOSTS), without repeats."""
    hosts = [host_of(public_url), *LOOPBACK_HOSTS, *also]
    if "*" in hosts:
        raise ImproperlyConfigured("SHOP_ALLOWED_HOSTS must name hosts; '*' would serve any Host (DESIGN.md §6)")
    return list(dict.fromkeys(h.lower() for h in hosts if h))


def allowed_hosts_from_env(public_url: str, jwks_url: str) -> list[str]:
    """ALLOWED_HOSTS of a service: what `allowed_hosts` lists, with the JWKS URL's host (the services fetch
    identity's keys there), the hosts of SHOP_SERVICE_URLS (the shop-wide ops status asks each service there)
    and SHOP_ALLOWED_HOSTS (other internal names, e.g. a container's)."""
    service_hosts = [host_of(url) for url in parse_service_urls(env_str("SHOP_SERVICE_URLS", "")).values()]
    return allowed_hosts(public_url, also=[host_of(jwks_url), *service_hosts, *env_list("SHOP_ALLOWED_HOSTS", [])])


def public_url() -> str:
    """The public URL this process was configured with (the ``SHOP_PUBLIC_URL`` setting)."""
    return settings.SHOP_PUBLIC_URL.rstrip("/")


def public_uri(request) -> str:
    """The URL of ``request`` at the public address: what links to this request's siblings start from."""
    return public_url() + request.get_full_path()


def _misdirected(request) -> JsonResponse:
    body = {"type": "about:blank", "title": "Misdirected Request", "status": 421,
            "detail": "This shop does not answer to that host name."}
    return JsonResponse(body, status=421, content_type="application/problem+json")


class AllowedHostsMiddleware:
    """Checks ``Host`` against ALLOWED_HOSTS on every request (Django itself checks only when a view asks for
    the host) and answers 421, as the gateway does, instead of letting a forged name reach a view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in PROBE_PATHS:
            try:
                request.get_host()
            except DisallowedHost:
                log.warning("request for a host this shop does not serve",
                            host=request.META.get("HTTP_HOST", ""), path=request.path)
                return _misdirected(request)
        return self.get_response(request)
