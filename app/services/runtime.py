"""The per-process workflow runtime: the working-day calendar, the sandboxed script engine and
the parsed process models, built once and shared by every request and job."""
from __future__ import annotations

import threading
import time as monotonic
from dataclasses import dataclass, field
from datetime import time

from flask import current_app
from sqlalchemy import select

from app.calendar import WorkingCalendar
from app.extensions import db
from app.models import ClosureDay, ProcessDefinition
from app.workflow import ProcessModel, ScriptLimits, build_helpers, make_script_engine, read_process

CALENDAR_TTL_SECONDS = 300


@dataclass
class Runtime:
    calendar: WorkingCalendar
    helpers: dict
    script_engine: object
    loaded_at: float
    models: dict[int, ProcessModel] = field(default_factory=dict)
    forms: dict[int, dict] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def get_runtime() -> Runtime:
    """This app's runtime; rebuilt when closure days may have changed (every few minutes)."""
    runtime = current_app.extensions.get("workflow_runtime")
    if runtime is None or monotonic.monotonic() - runtime.loaded_at > CALENDAR_TTL_SECONDS:
        runtime = _build_runtime(runtime)
        current_app.extensions["workflow_runtime"] = runtime
    return runtime


def refresh_runtime() -> None:
    """Forget the calendar so the next call reads closure days afresh."""
    current_app.extensions.pop("workflow_runtime", None)


def get_calendar() -> WorkingCalendar:
    return get_runtime().calendar


def _build_runtime(previous: Runtime | None) -> Runtime:
    """A runtime with the calendar read afresh; what never changes (deployed versions) is kept."""
    config = current_app.config
    closures = db.session.scalars(select(ClosureDay.day)).all()
    calendar = WorkingCalendar(
        subdivision=config["CALENDAR_SUBDIVISION"],
        timezone=config["CALENDAR_TIMEZONE"],
        business_start=time.fromisoformat(config["BUSINESS_HOURS_START"]),
        business_end=time.fromisoformat(config["BUSINESS_HOURS_END"]),
        closure_days=closures,
    )
    helpers = build_helpers(calendar)
    limits = ScriptLimits(step_seconds=config["SCRIPT_STEP_SECONDS"], iterations=config["SCRIPT_MAX_ITERATIONS"],
                          length=config["SCRIPT_MAX_LENGTH"], int_bits=config["SCRIPT_MAX_INT_BITS"])
    return Runtime(calendar=calendar, helpers=helpers, script_engine=make_script_engine(helpers, limits),
                   loaded_at=monotonic.monotonic(), models=previous.models if previous else {},
                   forms=previous.forms if previous else {}, versions=previous.versions if previous else {})


def model_for(definition: ProcessDefinition) -> ProcessModel:
    """The parsed model of a deployed version, parsed once per process and kept."""
    runtime = get_runtime()
    model = runtime.models.get(definition.id)
    if model is None:
        with runtime.lock:
            model = runtime.models.get(definition.id)
            if model is None:
                model = read_process(definition.bpmn_xml, definition.filename,
                                     max_bytes=max(len(definition.bpmn_xml), 1))
                runtime.models[definition.id] = model
    return model


def forms_of(definition_id: int) -> dict[str, str]:
    """The forms of a deployed version (immutable), read once per process and kept."""
    runtime = get_runtime()
    forms = runtime.forms.get(definition_id)
    if forms is None:
        forms = db.session.get(ProcessDefinition, definition_id).forms
        runtime.forms[definition_id] = forms
    return forms


def version_of(definition_id: int) -> int:
    """The version number of a deployed definition (immutable), read once per process and kept."""
    versions = get_runtime().versions
    if definition_id not in versions:
        versions[definition_id] = db.session.scalar(
            select(ProcessDefinition.version).where(ProcessDefinition.id == definition_id))
    return versions[definition_id]


def model_for_id(definition_id: int) -> ProcessModel:
    """The parsed model of a deployed version, by id (no row is read once it is cached)."""
    model = get_runtime().models.get(definition_id)
    return model if model is not None else model_for(db.session.get(ProcessDefinition, definition_id))
