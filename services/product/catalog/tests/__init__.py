"""Tests of the catalog, mirroring its modules."""
