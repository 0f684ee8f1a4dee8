"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run` (and `flask --app wsgi worker`).
Each process that loads it is a long-running one: its garbage collector is settled once the
application is created (app/collector.py)."""
from app import create_app
from app.collector import settle_collector

app = create_app()
settle_collector(app)
