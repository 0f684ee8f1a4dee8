"""Every setting, declared once and read from the environment.

`load_config()` is called by `create_app()`; nothing here runs at import time.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Config:
    SECRET_KEY: str = field(default_factory=lambda: _env("SECRET_KEY", "dev-only-change-me"))
    SQLALCHEMY_DATABASE_URI: str = field(
        default_factory=lambda: _env(
            "DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'instance' / 'safeguarding.sqlite3'}"
        )
    )
    BPMN_DIR: str = field(default_factory=lambda: _env("BPMN_DIR", str(PROJECT_ROOT / "bpmn")))
    FORMS_DIR: str = field(default_factory=lambda: _env("FORMS_DIR", str(PROJECT_ROOT / "forms")))
    MAX_BPMN_BYTES: int = field(default_factory=lambda: _env_int("MAX_BPMN_BYTES", 5 * 1024 * 1024))

    # The budget of the BPMN scripts and expressions of one workflow step (app/workflow/budget.py).
    SCRIPT_STEP_SECONDS: float = field(default_factory=lambda: _env_float("SCRIPT_STEP_SECONDS", 5.0))
    SCRIPT_MAX_ITERATIONS: int = field(default_factory=lambda: _env_int("SCRIPT_MAX_ITERATIONS", 100_000))
    SCRIPT_MAX_LENGTH: int = field(default_factory=lambda: _env_int("SCRIPT_MAX_LENGTH", 100_000))
    SCRIPT_MAX_INT_BITS: int = field(default_factory=lambda: _env_int("SCRIPT_MAX_INT_BITS", 4096))

    # The modeller's scenario check on deploy: the scenario files, and where each run keeps its files.
    SCENARIOS_DIR: str = field(default_factory=lambda: _env("SCENARIOS_DIR", str(PROJECT_ROOT / "tests" / "scenarios")))
    SCENARIO_CHECK_SECONDS: int = field(default_factory=lambda: _env_int("SCENARIO_CHECK_SECONDS", 600))
    SCENARIO_CHECK_DIR: str = field(
        default_factory=lambda: _env("SCENARIO_CHECK_DIR", str(PROJECT_ROOT / "instance" / "scenario_checks")))

    # Working-day calendar (DOMAIN.md, "Timescales and clocks").
    CALENDAR_SUBDIVISION: str = field(default_factory=lambda: _env("CALENDAR_SUBDIVISION", "ENG"))
    CALENDAR_TIMEZONE: str = field(default_factory=lambda: _env("CALENDAR_TIMEZONE", "Europe/London"))
    BUSINESS_HOURS_START: str = field(default_factory=lambda: _env("BUSINESS_HOURS_START", "09:00"))
    BUSINESS_HOURS_END: str = field(default_factory=lambda: _env("BUSINESS_HOURS_END", "17:00"))

    # Timer worker (DESIGN.md decision 5).
    TIMER_SWEEP_SECONDS: int = field(default_factory=lambda: _env_int("TIMER_SWEEP_SECONDS", 15))
    TIMER_CLAIM_SECONDS: int = field(default_factory=lambda: _env_int("TIMER_CLAIM_SECONDS", 120))
    TIMER_SWEEP_BATCH: int = field(default_factory=lambda: _env_int("TIMER_SWEEP_BATCH", 50))
    # The garbage collector of the long-running processes (app/collector.py); 0 leaves Python's defaults.
    GC_GEN0_THRESHOLD: int = field(default_factory=lambda: _env_int("GC_GEN0_THRESHOLD", 10_000))
    SCHEDULER_IN_PROCESS: bool = field(default_factory=lambda: _env_bool("SCHEDULER_IN_PROCESS", False))
    # How often a worker folds the steps' changes to the open-case and dashboard counts into the counts
    # (app/services/cases/counts.py); readers add up what is not folded yet, so this bounds their work.
    COUNT_FOLD_SECONDS: int = field(default_factory=lambda: _env_int("COUNT_FOLD_SECONDS", 5))
    # Telling people about new tasks after the step commits (app/services/notifications/fanout.py):
    # "thread" (a thread of the same process, at once), "inline" (right after the commit, before the
    # call returns: the tests' default) or "worker" (the worker alone). The worker's sweep is the safety
    # net in every mode: it takes the events nobody took within NOTIFY_FANOUT_GRACE_SECONDS.
    NOTIFY_FANOUT: str = field(default_factory=lambda: _env("NOTIFY_FANOUT", ""))
    NOTIFY_FANOUT_SECONDS: int = field(default_factory=lambda: _env_int("NOTIFY_FANOUT_SECONDS", 5))
    NOTIFY_FANOUT_GRACE_SECONDS: int = field(default_factory=lambda: _env_int("NOTIFY_FANOUT_GRACE_SECONDS", 2))
    # The thread gathers what commits this long after the first event it takes into one transaction.
    NOTIFY_FANOUT_GATHER_SECONDS: float = field(default_factory=lambda: _env_float("NOTIFY_FANOUT_GATHER_SECONDS", 0.25))

    # Running in production (README "Deployment"): the health check, logs, the reverse proxy, anchors.
    MIGRATIONS_DIR: str = field(default_factory=lambda: _env("MIGRATIONS_DIR", str(PROJECT_ROOT / "migrations")))
    HEALTH_SWEEP_STALE_SECONDS: int = field(default_factory=lambda: _env_int("HEALTH_SWEEP_STALE_SECONDS", 300))
    LOG_FORMAT: str = field(default_factory=lambda: _env("LOG_FORMAT", "json"))  # json or text
    LOG_LEVEL: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO"))
    AUDIT_ANCHOR_FILE: str = field(
        default_factory=lambda: _env("AUDIT_ANCHOR_FILE", str(PROJECT_ROOT / "instance" / "audit-anchors.jsonl")))
    AUDIT_ANCHOR_SECONDS: int = field(default_factory=lambda: _env_int("AUDIT_ANCHOR_SECONDS", 3600))
    BACKUP_DIR: str = field(default_factory=lambda: _env("BACKUP_DIR", str(PROJECT_ROOT / "instance" / "backups")))
    PG_BIN_DIR: str = field(default_factory=lambda: _env("PG_BIN_DIR", ""))  # pg_dump and pg_restore, if not on PATH

    # Escalations, the on-call rota and notifications (README "Escalations and notifications").
    ON_CALL_ROLES: str = field(
        default_factory=lambda: _env("ON_CALL_ROLES", "on_call_manager,director_on_call,out_of_hours"))
    ROTA_CHECK_DAYS: int = field(default_factory=lambda: _env_int("ROTA_CHECK_DAYS", 7))
    ROTA_CHECK_TIME: str = field(default_factory=lambda: _env("ROTA_CHECK_TIME", "07:00"))
    PUBLIC_BASE_URL: str = field(default_factory=lambda: _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000"))
    SMTP_HOST: str = field(default_factory=lambda: _env("SMTP_HOST", ""))
    SMTP_PORT: int = field(default_factory=lambda: _env_int("SMTP_PORT", 25))
    SMTP_SECURITY: str = field(default_factory=lambda: _env("SMTP_SECURITY", "none"))  # none, starttls, tls
    SMTP_USERNAME: str = field(default_factory=lambda: _env("SMTP_USERNAME", ""))
    SMTP_PASSWORD: str = field(default_factory=lambda: _env("SMTP_PASSWORD", ""))
    SMTP_TIMEOUT_SECONDS: int = field(default_factory=lambda: _env_int("SMTP_TIMEOUT_SECONDS", 10))
    MAIL_SENDER: str = field(default_factory=lambda: _env("MAIL_SENDER", "Safeguarding cases <no-reply@localhost>"))
    MAIL_SEND_SECONDS: int = field(default_factory=lambda: _env_int("MAIL_SEND_SECONDS", 20))
    MAIL_QUIET_SECONDS: int = field(default_factory=lambda: _env_int("MAIL_QUIET_SECONDS", 30))
    MAIL_MAX_HOLD_SECONDS: int = field(default_factory=lambda: _env_int("MAIL_MAX_HOLD_SECONDS", 900))
    MAIL_SUMMARY_THRESHOLD: int = field(default_factory=lambda: _env_int("MAIL_SUMMARY_THRESHOLD", 3))
    MAIL_MAX_ATTEMPTS: int = field(default_factory=lambda: _env_int("MAIL_MAX_ATTEMPTS", 6))
    MAIL_RETRY_SECONDS: int = field(default_factory=lambda: _env_int("MAIL_RETRY_SECONDS", 60))
    MAIL_CLAIM_SECONDS: int = field(default_factory=lambda: _env_int("MAIL_CLAIM_SECONDS", 300))
    MAIL_DIGEST_TIME: str = field(default_factory=lambda: _env("MAIL_DIGEST_TIME", "08:00"))

    # API (flask-smorest).
    API_TITLE: str = "Safeguarding cases API"
    API_VERSION: str = "v1"
    OPENAPI_VERSION: str = "3.0.3"
    OPENAPI_URL_PREFIX: str = "/api"
    OPENAPI_JSON_PATH: str = "openapi.json"

    # Web sign-in and sessions (DESIGN.md decision 12; README "Signing in").
    SERVICE_NAME: str = field(default_factory=lambda: _env("SERVICE_NAME", "Safeguarding cases"))
    SESSION_COOKIE_SECURE: bool = field(default_factory=lambda: _env_bool("SESSION_COOKIE_SECURE", True))
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_IDLE_MINUTES: int = field(default_factory=lambda: _env_int("SESSION_IDLE_MINUTES", 30))
    SESSION_MAX_HOURS: int = field(default_factory=lambda: _env_int("SESSION_MAX_HOURS", 10))  # a working day
    WTF_CSRF_TIME_LIMIT: int | None = None  # a token lives as long as the session that issued it
    SIGNIN_MAX_FAILURES: int = field(default_factory=lambda: _env_int("SIGNIN_MAX_FAILURES", 5))
    SIGNIN_LOCKOUT_MINUTES: int = field(default_factory=lambda: _env_int("SIGNIN_LOCKOUT_MINUTES", 15))
    SIGNIN_MAX_FAILURES_PER_ADDRESS: int = field(
        default_factory=lambda: _env_int("SIGNIN_MAX_FAILURES_PER_ADDRESS", 30))
    TRUSTED_PROXIES: int = field(default_factory=lambda: _env_int("TRUSTED_PROXIES", 0))  # reverse proxies in front
    INBOX_PAGE_SIZE: int = field(default_factory=lambda: _env_int("INBOX_PAGE_SIZE", 25))

    # Documents attached to tasks: stored outside the web root, served only to the case team.
    DOCUMENTS_DIR: str = field(
        default_factory=lambda: _env("DOCUMENTS_DIR", str(PROJECT_ROOT / "instance" / "documents")))
    MAX_UPLOAD_BYTES: int = field(default_factory=lambda: _env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
    MAX_CONTENT_LENGTH: int = field(
        default_factory=lambda: 4 * _env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024) + 1024 * 1024)

    # Optional OpenID Connect sign-in (README "Signing in with OpenID Connect").
    OIDC_ISSUER: str = field(default_factory=lambda: _env("OIDC_ISSUER", ""))
    OIDC_CLIENT_ID: str = field(default_factory=lambda: _env("OIDC_CLIENT_ID", ""))
    OIDC_CLIENT_SECRET: str = field(default_factory=lambda: _env("OIDC_CLIENT_SECRET", ""))
    OIDC_SCOPES: str = field(default_factory=lambda: _env("OIDC_SCOPES", "openid profile email"))
    OIDC_USERNAME_CLAIM: str = field(default_factory=lambda: _env("OIDC_USERNAME_CLAIM", "preferred_username"))
    OIDC_GROUPS_CLAIM: str = field(default_factory=lambda: _env("OIDC_GROUPS_CLAIM", "groups"))
    OIDC_STAFF_NUMBER_CLAIM: str = field(default_factory=lambda: _env("OIDC_STAFF_NUMBER_CLAIM", ""))
    OIDC_ROLE_MAP: str = field(default_factory=lambda: _env("OIDC_ROLE_MAP", ""))
    OIDC_BUTTON_TEXT: str = field(
        default_factory=lambda: _env("OIDC_BUTTON_TEXT", "Sign in with your organisation account"))

    # Reports, retention and timer-start processes (README "Reports and governance").
    REPORT_SUPPRESSION_THRESHOLD: int = field(default_factory=lambda: _env_int("REPORT_SUPPRESSION_THRESHOLD", 5))
    REPORT_RESOLUTION_TARGETS: str = field(default_factory=lambda: _env(
        "REPORT_RESOLUTION_TARGETS", "1 week=5;1 month=20;3 months=65;12 months=260"))
    REPORT_YEAR_START_MONTH: int = field(default_factory=lambda: _env_int("REPORT_YEAR_START_MONTH", 4))
    RETENTION_YEARS_FROM_ALLEGATION: int = field(default_factory=lambda: _env_int("RETENTION_YEARS_FROM_ALLEGATION", 10))
    RETENTION_PENSION_AGE: str = field(default_factory=lambda: _env("RETENTION_PENSION_AGE", "state"))
    RETENTION_REVIEW_TIME: str = field(default_factory=lambda: _env("RETENTION_REVIEW_TIME", "06:00"))
    SCHEDULED_STARTS_SECONDS: int = field(default_factory=lambda: _env_int("SCHEDULED_STARTS_SECONDS", 60))

    SQLALCHEMY_ENGINE_OPTIONS: dict = field(default_factory=dict)
    JSON_SORT_KEYS: bool = False
    TESTING: bool = False


def load_config(overrides: dict | None = None) -> dict:
    """Settings from the environment, with explicit overrides (tests pass theirs here)."""
    settings = asdict(Config())
    settings.update(overrides or {})
    if not settings["NOTIFY_FANOUT"]:
        settings["NOTIFY_FANOUT"] = "inline" if settings["TESTING"] else "thread"
    settings["SQLALCHEMY_DATABASE_URI"] = database_uri(settings["SQLALCHEMY_DATABASE_URI"])
    return settings


def database_uri(url: str) -> str:
    """`postgresql://...` means PostgreSQL through psycopg 3 (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
