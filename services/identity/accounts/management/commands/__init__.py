"""Commands: create_staff, rotate_signing_key, retire_signing_key, list_signing_keys, purge_refresh_tokens."""
