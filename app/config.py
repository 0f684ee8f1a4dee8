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

    # Working-day calendar (DOMAIN.md, "Timescales and clocks").
    CALENDAR_SUBDIVISION: str = field(default_factory=lambda: _env("CALENDAR_SUBDIVISION", "ENG"))
    CALENDAR_TIMEZONE: str = field(default_factory=lambda: _env("CALENDAR_TIMEZONE", "Europe/London"))
    BUSINESS_HOURS_START: str = field(default_factory=lambda: _env("BUSINESS_HOURS_START", "09:00"))
    BUSINESS_HOURS_END: str = field(default_factory=lambda: _env("BUSINESS_HOURS_END", "17:00"))

    # Timer worker (DESIGN.md decision 5).
    TIMER_SWEEP_SECONDS: int = field(default_factory=lambda: _env_int("TIMER_SWEEP_SECONDS", 15))
    TIMER_CLAIM_SECONDS: int = field(default_factory=lambda: _env_int("TIMER_CLAIM_SECONDS", 120))
    TIMER_SWEEP_BATCH: int = field(default_factory=lambda: _env_int("TIMER_SWEEP_BATCH", 200))
    SCHEDULER_IN_PROCESS: bool = field(default_factory=lambda: _env_bool("SCHEDULER_IN_PROCESS", False))

    # API (flask-smorest).
    API_TITLE: str = "Safeguarding cases API"
    API_VERSION: str = "v1"
    OPENAPI_VERSION: str = "3.0.3"
    OPENAPI_URL_PREFIX: str = "/api"
    OPENAPI_JSON_PATH: str = "openapi.json"

    SQLALCHEMY_ENGINE_OPTIONS: dict = field(default_factory=dict)
    JSON_SORT_KEYS: bool = False
    TESTING: bool = False


def load_config(overrides: dict | None = None) -> dict:
    """Settings from the environment, with explicit overrides (tests pass theirs here)."""
    settings = asdict(Config())
    settings.update(overrides or {})
    settings["SQLALCHEMY_DATABASE_URI"] = database_uri(settings["SQLALCHEMY_DATABASE_URI"])
    return settings


def database_uri(url: str) -> str:
    """`postgresql://...` means PostgreSQL through psycopg 3 (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
