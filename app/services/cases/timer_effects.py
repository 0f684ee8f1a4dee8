"""What each timer of a deployed model does when it fires, in words (`app.workflow.describe_timers`),
cached per deployed version."""
from __future__ import annotations

from flask import current_app

from app.models import ProcessDefinition
from app.workflow import describe_timers


def timer_effects(definition: ProcessDefinition) -> dict[str, str]:
    """bpmn id of each timer event -> what happens when it fires (cached per deployed version)."""
    cache = current_app.extensions.setdefault("timer_effects", {})  # by content: a version never changes
    if definition.sha256 not in cache:
        cache[definition.sha256] = describe_timers(definition.bpmn_xml)
    return cache[definition.sha256]
