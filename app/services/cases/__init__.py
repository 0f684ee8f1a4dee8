"""A case's life: starting it, saving each workflow step with its projections, and reading it."""
