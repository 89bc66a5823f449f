"""Cryptographic primitives: hashing, JWK handling and JWS signing/verification over ``cryptography``."""
