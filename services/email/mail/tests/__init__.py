"""Tests of the email service."""
