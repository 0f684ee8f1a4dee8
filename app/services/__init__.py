"""Use cases: the only code that commits. Routes, the API, jobs and commands call them.

The packages mirror the blueprints, so a URL leads to its use cases, and they depend one way:

    reporting | tasks | modeller | accounts | operations  ->  cases  ->  notifications  ->  kernel

- kernel (the modules here): `errors`, `audit` (the hash-chained trail and the case lock that
  serialises writers to it), `access` (need to know), `report_access`, `people` (roles, users, role
  holders), `runtime` (the per-process workflow runtime), `forms` (checking answers), `definitions`
  (deployed versions). They import no package of services.
- `notifications/`: telling people (`notify`), escalations and the on-call `rota`, the email
  `outbox`, `delivery` and `mailer`, and how the timeline words them (`timeline_words`).
- `cases/`: a case's life (`lifecycle`: start, save a step, links), reading it (`records`), the
  projections a step keeps, the reporting facts, timers, documents, the case page and lists.
- `tasks/`: human tasks (claim, complete), task pages, drafts, the queue and the inbox.
- `reporting/`: dashboards, governance reports, adherence, the process audit view, exports,
  retention and disposal, audit trails.
- `modeller/`: the process library, drafts, scenario checks and moving running cases.
- `accounts/`: signing in and administration.
- `operations/`: running the service: backups and restores (`backup`, `restore`, `postgres`), audit
  chain anchors written outside the database (`anchors`), and the health check (`health`).

The direction is checked by import-linter (contracts in pyproject.toml).
"""
