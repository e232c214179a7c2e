"""A model whose rows the test handlers write, so a test can count effects."""
from django.db import models


class Note(models.Model):
    key = models.CharField(max_length=100)
    text = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Failure(models.Model):
    """Keys whose handler raises, for as long as the row exists."""

    key = models.CharField(max_length=100, unique=True)
