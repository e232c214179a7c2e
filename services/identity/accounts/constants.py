"""Roles, token types and throttle scopes of the identity service, each named once."""
from shopkit.auth import ROLE_CUSTOMER, ROLE_STAFF

# Roles: the same names every service's permissions check (shopkit.auth).
ROLE_CHOICES = [
    (ROLE_CUSTOMER, "customer"),  # signs up through /register; places and follows own orders
    (ROLE_STAFF, "staff"),  # created by `manage.py create_staff`; runs the catalog and ships orders
]

# The `typ` claim: shopkit refuses anything but an access token on every API; only /token/refresh takes a refresh one.
TOKEN_ACCESS = "access"
TOKEN_REFRESH = "refresh"
TOKEN_TYPE = "Bearer"  # `token_type` of the token response

# What the throttle table counts, each scope per its own key:
# failed sign-ins of one account from one client address (a password being guessed from there: never keyed by the
# account alone, or anyone could lock its owner out) and from one client address (many accounts being tried);
# password-reset requests per account (its mailbox is not flooded) and per client address, together with that
# address's failed reset confirmations.
THROTTLE_ACCOUNT_CLIENT = "account-client"
THROTTLE_CLIENT = "client"
THROTTLE_RESET_ACCOUNT = "reset-account"
THROTTLE_RESET_CLIENT = "reset-client"
THROTTLE_SCOPE_CHOICES = [(scope, scope.replace("-", " ")) for scope in (
    THROTTLE_ACCOUNT_CLIENT, THROTTLE_CLIENT, THROTTLE_RESET_ACCOUNT, THROTTLE_RESET_CLIENT)]
THROTTLE_SCOPE_MAX_LENGTH = 20

# The storefront's page that takes a reset link; the token travels in the fragment, which browsers never send
# to a server (so it stays out of access logs and Referer headers).
PASSWORD_RESET_PAGE = "/reset-password"
PASSWORD_RESET_TOKEN_BYTES = 32  # 256 bits from `secrets`: guessing one is hopeless, so a fast hash stores it

NAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
PASSWORD_MAX_LENGTH = 256  # long enough for any pass phrase; bounds the work one request can make a hasher do
