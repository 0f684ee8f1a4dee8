"""Running the service in production: backups and restores, audit chain anchors, the health check,
and cases a step could not move on. Imports the kernel modules of app.services only."""
