"""Optional OpenID Connect sign-in (Authlib), switched on by OIDC_* settings (README)."""
from __future__ import annotations

from flask import Flask

from app.extensions import oauth


def init_oidc(app: Flask) -> None:
    """Register the identity provider when OIDC_ISSUER and OIDC_CLIENT_ID are set."""
    settings = app.config
    if not (settings["OIDC_ISSUER"] and settings["OIDC_CLIENT_ID"]):
        return
    oauth.init_app(app)
    oauth.register(
        "oidc",
        client_id=settings["OIDC_CLIENT_ID"],
        client_secret=settings["OIDC_CLIENT_SECRET"],
        server_metadata_url=settings["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings["OIDC_SCOPES"]},
    )


def oidc_enabled(app: Flask) -> bool:
    return bool(app.config["OIDC_ISSUER"] and app.config["OIDC_CLIENT_ID"])
