"""One Classifier per method: zero-shot matcher, linear probe, classification by description, describe-decide.

>>> from steervis.methods import METHODS
>>> sorted(METHODS.names())[:3]
['by-description', 'describe-decide', 'linear-probe']
"""

from steervis.methods.base import METHODS, Classifier, check_classes, check_labels

METHODS.register("zeroshot", "steervis.methods.zeroshot:factory", help="zero-shot matcher, prompt ensemble")
METHODS.register("linear-probe", "steervis.methods.linear_probe:factory", help="logistic regression on features")
METHODS.register("by-description", "steervis.methods.by_description:factory",
                 help="LLM-written class descriptors matched against images")
METHODS.register("description-probe", "steervis.methods.description_probe:factory",
                 help="TF-IDF of the descriptions → logistic regression (what the words alone carry)")
METHODS.register("describe-decide", "steervis.methods.describe_decide:factory",
                 help="VLLaVO: descriptions → LoRA-tuned LLM scores each class")
METHODS.register("zeroshot-llm", "steervis.methods.describe_decide:zeroshot_factory",
                 help="descriptions → base LLM (no finetuning) scores each class")

__all__ = ["METHODS", "Classifier", "check_classes", "check_labels"]
