"""Tests of the etl app."""
