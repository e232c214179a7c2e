"""The order service's Django project configuration."""
