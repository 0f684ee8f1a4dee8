"""Telling people: in-app notifications, escalations and the on-call rota, and email through the outbox."""
