"""Does the decider follow the class tags? Per held-out domain of a finished run: how often the matcher's
first class tag is right, how often the class is among the class tags, how often the method's answer is the
first class tag, and its accuracy when that tag is right and when it is wrong.

A description with ``class_tags`` starts with the matcher's top class names (``DescribeConfig.class_tags``);
the class tags are read back from the rendered text the run stored beside each prediction.

>>> import pandas as pd
>>> preds = pd.DataFrame({"domain": ["a", "a"], "class": ["cat", "dog"], "pred": ["cat", "cat"],
...                       "description": ["Tags:\\n- cat\\n- dog\\n- fur", "Tags:\\n- cat\\n- dog"]})
>>> (follow_class_tags(preds, n=2)["a"]["first_tag_right"],
...  follow_class_tags(preds, n=2)["a"]["answer_is_first_tag"])
(50.0, 100.0)
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from steervis.stats import paired_difference_ci
from steervis.studies.paired import points, run_predictions


def leading_tags(description: str, n: int) -> list[str]:
    """The first ``n`` tags of a rendered description (none if it has no ``Tags:`` block first)."""
    lines = description.split("\n")
    if not lines or lines[0] != "Tags:":
        return []
    out = []
    for line in lines[1:]:
        if not line.startswith("- "):
            break
        out.append(line[2:])
    return out[:n]


def pct(mask: pd.Series) -> float | None:
    """Share of true values in %, one decimal (None for no rows)."""
    return round(100 * float(mask.mean()), 1) if len(mask) else None


def follow_class_tags(preds: pd.DataFrame, n: int = 3) -> dict[str, dict[str, Any]]:
    """Per domain (and ``all``), the class tags' quality beside what the method answered, in %."""

    def summary(frame: pd.DataFrame) -> dict[str, Any]:
        tags = [leading_tags(d, n) for d in frame["description"]]
        names = [c.replace("_", " ") for c in frame["class"]]  # class tags are class names read as words
        answers = [p.replace("_", " ") for p in frame["pred"]]
        first = pd.Series([bool(t) and t[0] == c for t, c in zip(tags, names, strict=True)],
                          index=frame.index)
        right = frame["pred"] == frame["class"]
        return {
            "images": len(frame),
            "first_tag_right": pct(first),
            "class_in_tags": pct(pd.Series([c in t for t, c in zip(tags, names, strict=True)])),
            "answer_is_first_tag": pct(pd.Series([bool(t) and t[0] == a
                                                  for t, a in zip(tags, answers, strict=True)])),
            "answer_in_tags": pct(pd.Series([a in t for t, a in zip(tags, answers, strict=True)])),
            "accuracy": pct(right),
            "accuracy_when_first_right": pct(right[first]),
            "accuracy_when_first_wrong": pct(right[~first]),
            # the method against answering the first class tag, on the same images: [difference, low, high]
            "minus_first_tag_ci95": points(paired_difference_ci(right.to_numpy(), first.to_numpy())),
        }

    out = {str(domain): summary(group) for domain, group in preds.groupby("domain", sort=True)}
    out["all"] = summary(preds)
    return out


def study_class_tags(run: str = "", method: str = "describe-decide@react-pool-classes",
                     n: int = 3) -> dict[str, Any]:
    """``steervis study class-tags --set run=runs/full --set method=...``: the table above for one method of a
    finished ``steervis evaluate`` run folder whose describer had ``class_tags`` = ``n``."""
    from steervis.errors import SteervisError

    preds = run_predictions(run)
    chosen = preds[preds["method"] == method]
    if chosen.empty:
        raise SteervisError(f"{run} has no predictions of {method!r}: it has "
                            f"{', '.join(sorted(preds['method'].unique()))}.")
    return {"run": str(run), "method": method, "class_tags": int(n), **follow_class_tags(chosen, int(n))}
