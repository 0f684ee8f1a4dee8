"""Running the service in production: backups and restores, audit chain anchors and the health
check. Imports the kernel modules of app.services and the models only."""
