"""What running the service needs to know about itself: when each worker last swept."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class WorkerHeartbeat(db.Model):
    """One row per worker process (`host:pid`), updated at the end of each timer sweep; the health
    check reads the newest."""

    __tablename__ = "worker_heartbeat"

    worker_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    swept_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, nullable=False)
