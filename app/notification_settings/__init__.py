"""Each person's email settings: at once, or a daily digest."""
