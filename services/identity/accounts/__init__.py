"""Accounts: users, their passwords, sign-in, and the keys that sign their tokens."""
