"""The catalog's commands: seed_demo_catalog."""
