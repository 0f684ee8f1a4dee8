"""The organisation of the need-to-know tests (two care groups, two LADO services, the real models)."""
from tests.need_to_know.conftest import monday_morning, org  # noqa: F401
