"""Signing keys: the guarded HTTP client, issuer discovery, JWKS store, signatures."""
