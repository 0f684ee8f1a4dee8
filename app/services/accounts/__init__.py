"""Accounts: signing in and out, and administration of users, roles and teams."""
