"""How the case timeline words escalations, reminders and notifications (with their email's
delivery state), from the facts their audit events carry."""
from __future__ import annotations

from app.services.notifications.outbox import MESSAGES

SENTENCES = {
    "task_ready": "“{task}” is waiting for {role_name}{routed}",
    "escalation_raised": "Escalation: “{task}” is waiting for {role_name}{routed}",
    "reminder_raised": "Reminder: “{task}” is due soon",
    "notification_queued": "Notified {to}: {kind_text} ({email_text})",
    "notification_sent": "Email to {to} sent: {kind_text}{together_text}",
    "notification_retrying": "Email to {to} not sent yet (attempt {attempts}, {error}); it will be tried again",
    "notification_failed": "Email to {to} could not be sent after {attempts} attempts ({error}); "
                           "the administrators have been told",
    "notification_not_emailed": "Not emailed to {to} ({error})",
}
EMAIL_TEXT = {"immediate": "email to follow", "digest": "in their daily digest email",
              "skipped": "no email address: shown in the service only"}


def notification_words(data: dict) -> dict:
    """Extra words for the sentences above."""
    together = data.get("in_one_email_with") or 0
    if data.get("assigned_to") and data.get("named"):
        routed = f", given to {data['assigned_to']} (named on the case)"
    elif data.get("assigned_to"):
        routed = f", given to {data['assigned_to']} (on call)"
    elif data.get("rota_gap"):
        routed = ": nobody is on call (a gap in the rota), so it waits for anyone in the role"
    elif data.get("nobody_holds_role"):
        routed = ": nobody holds the role for this case's unit, so the administrators have been told"
    else:
        routed = ""
    return {
        "routed": routed,
        "kind_text": MESSAGES.get(data.get("kind") or "", "a notification").rstrip(".").lower(),
        "email_text": EMAIL_TEXT.get(data.get("email") or "", "email to follow"),
        "together_text": f" (in one summary with {together} other{'s' if together != 1 else ''})" if together else "",
    }
