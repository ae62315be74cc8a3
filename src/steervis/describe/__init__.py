"""steervis.describe (filled in by its issue)."""
