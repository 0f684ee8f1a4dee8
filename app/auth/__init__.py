"""Signing in and out (local accounts, optional OpenID Connect)."""
