"""Reports and records: dashboards, governance reports, adherence, process audit, exports, retention."""
