"""Schema migrations of the accounts app."""
