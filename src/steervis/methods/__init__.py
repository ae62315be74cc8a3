"""One Classifier per method: zero-shot matcher, linear probe, classification by description, describe-decide,
VRL, and VLMClassifier's classifiers (vlm-generate, vlm-generate-closed, vlm-score, vlm-finetuned).

Each entry is the method's class; the registry checks its contract (fit, predict_proba, save, load, an
``Options`` dataclass, declared capabilities) when the class is first resolved.

>>> from steervis.methods import METHODS
>>> sorted(METHODS.names())[:3]
['by-description', 'describe-decide', 'description-probe']
"""

from steervis.methods.base import (
    METHODS,
    Classifier,
    Method,
    build_method,
    check_classes,
    check_labels,
    has_capability,
    method_options,
)

METHODS.register("zeroshot", "steervis.methods.zeroshot:ZeroShot", help="zero-shot matcher, prompt ensemble")
METHODS.register("linear-probe", "steervis.methods.linear_probe:LinearProbe",
                 help="logistic regression on features")
METHODS.register("by-description", "steervis.methods.by_description:ByDescription",
                 help="LLM-written class descriptors matched against images")
METHODS.register("description-probe", "steervis.methods.description_probe:DescriptionProbe",
                 help="TF-IDF of the descriptions → logistic regression (what the words alone carry)")
METHODS.register("describe-decide", "steervis.methods.describe_decide:DescribeDecide",
                 help="VLLaVO: descriptions → LoRA-tuned LLM scores each class")
METHODS.register("react", "steervis.methods.react:React",
                 help="REACT: customize the matcher on pool pairs retrieved for the class names, then "
                 "zero-shot")
METHODS.register("zeroshot-llm", "steervis.methods.describe_decide:ZeroShotLLM",
                 help="descriptions → base LLM (no finetuning) scores each class")
METHODS.register("vlm-generate", "steervis.methods.vlm:VLMGenerate",
                 help="VLM, open question, the answer mapped to the class it names (VLMClassifier)")
METHODS.register("vlm-generate-closed", "steervis.methods.vlm:VLMGenerateClosed",
                 help="VLM, the classes listed in the question; naming several is wrong")
METHODS.register("vlm-score", "steervis.methods.vlm:VLMScore",
                 help="VLM, image + question once, every class name scored over the cache")
METHODS.register("vlm-finetuned", "steervis.methods.vlm:VLMFinetuned",
                 help="VLM (stage 2) + a short LoRA run on the training images' classes, then vlm-score")
METHODS.register("vrl", "steervis.methods.vrl:VRL",
                 help="VRL: an LM verbalizes what tells the shots' classes apart; the matcher scores each "
                 "criterion; an interpretable classifier on the scores")

__all__ = ["METHODS", "Classifier", "Method", "build_method", "check_classes", "check_labels",
           "has_capability", "method_options"]
