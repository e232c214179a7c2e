"""A test-only Argon2 hasher with minimal cost: same algorithm and hash format, a fraction of the time."""
from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
