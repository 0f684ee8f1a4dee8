"""Administration: users, roles, teams and the on-call rota (system administrator only)."""
