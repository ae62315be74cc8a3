"""steervis.eval (filled in by its issue)."""
