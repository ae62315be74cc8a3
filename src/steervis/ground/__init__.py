"""Grounding: detection as phrase grounding (GLIP), behind one Grounder contract."""
