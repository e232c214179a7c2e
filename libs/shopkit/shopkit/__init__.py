"""shopkit: the shop's shared library — messaging, auth, logging, health and settings, no business rules."""
