"""Kubernetes manifests for the shop: the generator of the base (generate.py) and its YAML writer."""
