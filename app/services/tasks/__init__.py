"""Human tasks: the queue and inbox, task pages and drafts, claiming and completing."""
