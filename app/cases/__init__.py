"""Cases: start one, find one, the case page and its documents."""
