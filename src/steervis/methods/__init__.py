"""One Classifier per method: zero-shot matcher, linear probe, classification by description, describe-decide."""

from steervis.methods.base import METHODS, Classifier, check_classes, check_labels

__all__ = ["METHODS", "Classifier", "check_classes", "check_labels"]
