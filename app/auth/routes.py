"""/sign-in, /sign-out and the optional OpenID Connect sign-in."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from app.extensions import oauth
from app.services.accounts import auth
from app.web.access import public, signed_in
from app.web.errors import register_blueprint_errors
from app.web.oidc import oidc_enabled
from app.web.posts import safe_next
from app.web.sessions import begin_session, forget_session

bp = Blueprint("auth", __name__)
register_blueprint_errors(bp)


@bp.get("/sign-in")
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.inbox"))
    return render_template("auth/sign_in.html", username="", error=None, next=safe_next(request.args.get("next")))


@bp.post("/sign-in")
@public
def sign_in_post():
    try:
        signed_in = auth.sign_in(request.form.get("username", ""), request.form.get("password", ""),
                                 request.remote_addr or "")
    except auth.SignInRefused as refused:
        return render_template("auth/sign_in.html", username=refused.username, error=refused.message,
                               next=safe_next(request.form.get("next")))
    _start_session(signed_in)
    return redirect(safe_next(request.form.get("next")) or url_for("inbox.inbox"))


def _start_session(signed_in: auth.SignedIn) -> None:
    begin_session(signed_in.session)  # a new session at sign-in: nothing carried over from before
    login_user(signed_in.user)


@bp.post("/sign-out")
@signed_in
def sign_out():
    auth.sign_out(current_user._get_current_object())
    logout_user()
    forget_session()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.get("/sign-in/oidc")
@public
def oidc_sign_in():
    if not oidc_enabled(current_app):
        abort(404)
    return oauth.oidc.authorize_redirect(url_for("auth.oidc_callback", _external=True))


@bp.get("/sign-in/oidc/callback")
@public
def oidc_callback():
    if not oidc_enabled(current_app):
        abort(404)
    token = oauth.oidc.authorize_access_token()
    try:
        signed_in = auth.sign_in_with_claims(token.get("userinfo") or {}, request.remote_addr or "")
    except auth.SignInRefused as refused:
        return render_template("auth/sign_in.html", username="", error=refused.message, next="")
    _start_session(signed_in)
    return redirect(url_for("inbox.inbox"))
