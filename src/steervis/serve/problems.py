"""What can go wrong with a request, as an HTTP status and one sentence: never a traceback on the page.

>>> error_sentence(RequestError("The upload is empty.", 400))
(400, 'The upload is empty.')
>>> error_sentence(NotReady("No LLaVA is trained here yet."))
(503, 'No LLaVA is trained here yet.')
"""

from __future__ import annotations

import logging

from steervis.errors import SteervisError

log = logging.getLogger(__name__)


class RequestError(SteervisError):
    """A request the page refuses; ``status`` is the HTTP status that says why (400, 403, 404, 413)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class NotReady(SteervisError):
    """A model that could not be loaded (not built, a bad name): its one-sentence reason."""


def error_sentence(err: BaseException) -> tuple[int, str]:
    """The HTTP status and the one sentence a request's error becomes."""
    if isinstance(err, RequestError):
        return err.status, str(err)
    if isinstance(err, NotReady):
        return 503, str(err)
    if isinstance(err, SteervisError):
        return 400, str(err)
    log.error("request failed", exc_info=err)  # the server's log keeps the traceback; the page never sees it
    return 500, f"The server failed on this request ({type(err).__name__}); its log has the details."
