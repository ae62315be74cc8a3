"""The numbers a count or share may take, checked on the command line and in ``--set`` values alike."""

from __future__ import annotations

import argparse
import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Bounds:
    """The numbers a value may take, and how to say so in one sentence; called with a string, an argparse
    ``type``.

    >>> POSITIVE_INT("8")
    8
    >>> POSITIVE_INT("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 0 is out of range: give a whole number of at least 1.
    >>> Bounds(0, 1, low_open=True, integer=False).describe()
    'a number above 0 and at most 1'
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself is out, e.g. top-p in (0, 1]
    integer: bool = True

    def describe(self) -> str:
        noun = "a whole number" if self.integer else "a number"
        if self.low is not None and self.high is not None and not self.low_open:
            return f"{noun} from {self.low:g} to {self.high:g}"
        low = (None if self.low is None
               else (f"above {self.low:g}" if self.low_open else f"of at least {self.low:g}"))
        high = None if self.high is None else f"{'and' if low else 'of'} at most {self.high:g}"
        return " ".join(part for part in (noun, low, high) if part)

    def __contains__(self, value: object) -> bool:
        kinds = int if self.integer else int | float
        if isinstance(value, bool) or not isinstance(value, kinds):
            return False  # a bool is an int to Python, never to a user
        if isinstance(value, float) and not math.isfinite(value):
            return False  # nan slips past every comparison (and isfinite overflows on a 400-digit int)
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        return not below and not (self.high is not None and value > self.high)

    def problem(self, value: object) -> str | None:
        """``None`` if ``value`` is allowed, else what is wrong with it and what to give, in one sentence."""
        if value in self:
            return None
        wrong_kind = (isinstance(value, bool)
                      or not isinstance(value, int | float if not self.integer else int))
        return (f"{value!r} is "
                f"{'not ' + self.describe() if wrong_kind else 'out of range: give ' + self.describe()}.")

    def __call__(self, text: str) -> int | float:
        try:
            value: int | float = int(text) if self.integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole' if self.integer else 'a'} number: "
                                             f"give {self.describe()}.") from None
        problem = self.problem(value)
        if problem is not None:
            raise argparse.ArgumentTypeError(problem)
        return value


POSITIVE_INT = Bounds(1)  # counts of things that must happen at least once: batch sizes, images, tokens, k
NON_NEGATIVE_INT = Bounds(0)  # counts that may be zero: extra samples, examples shown
FRACTION = Bounds(0, 1, integer=False)  # shares and probabilities, both ends included


def positive_int(text: str) -> int:
    """argparse ``type=`` for a whole number of at least 1."""
    return int(POSITIVE_INT(text))


def non_negative_int(text: str) -> int:
    """argparse ``type=`` for a whole number of at least 0."""
    return int(NON_NEGATIVE_INT(text))


def fraction(text: str) -> float:
    """argparse ``type=`` for a number from 0 to 1."""
    return float(FRACTION(text))
