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

# Failed sign-ins are counted per account (a password being guessed) and per client (many accounts being tried).
THROTTLE_ACCOUNT = "account"
THROTTLE_CLIENT = "client"
THROTTLE_SCOPE_CHOICES = [(THROTTLE_ACCOUNT, "account"), (THROTTLE_CLIENT, "client")]

NAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
PASSWORD_MAX_LENGTH = 256  # long enough for any pass phrase; bounds the work one request can make a hasher do
