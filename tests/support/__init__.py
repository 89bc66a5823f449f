"""Test support: fake clock, canonical data, an in-process server and HTTP helpers."""
