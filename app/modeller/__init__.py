"""The process library, the modeller and the migration of running cases (process owners only).

`routes.bp` carries the pages: `library.py` (processes, versions, downloads, migrations) and
`drafts.py` (the modeller, validation and deployment)."""
