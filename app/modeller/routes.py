"""The /processes blueprint with its pages attached."""
from app.modeller import drafts, library  # noqa: F401  (their routes attach to bp)
from app.modeller.blueprint import bp

__all__ = ["bp"]
