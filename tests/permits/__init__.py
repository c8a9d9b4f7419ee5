"""Tests of the permits app."""
