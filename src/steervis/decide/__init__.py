"""steervis.decide (filled in by its issue)."""
