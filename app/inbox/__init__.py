"""The inbox, task pages and notifications."""
