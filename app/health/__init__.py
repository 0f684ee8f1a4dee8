"""/healthz: for the load balancer and the operator's monitoring."""
