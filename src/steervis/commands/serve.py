"""``steervis serve``: a local web page to chat about an image, classify it, describe it and open reports.

Binds 127.0.0.1 (this machine only) unless ``--host`` says otherwise. Chat uses ``--vlm`` (default: the
latest LLaVA trained here); classify a describe-decide adapter (``--adapter``, from ``steervis fit``) or a
method that needs no fit (``--method zeroshot|react`` over ``--classes``); describe the describer's settings
(``--set describe.matcher=...``); reports are those of finished run folders under ``--runs``. Each model
loads once, when the server starts; the page shows which are ready, and why one is not.
"""

from __future__ import annotations

import argparse

from steervis.commands._options import HelpFormatter, add_config, config_from

EXAMPLE = """examples:
  steervis serve                                   # http://127.0.0.1:8765
  steervis serve --vlm stage2 --adapter runs/pc --runs runs
  steervis serve --classes cat,dog,horse --set options.matcher=conse
  steervis serve --vlm tiny-vlm --set describe.matcher=tiny-clip --set describe.captioner=tiny-blip
  steervis serve --host 0.0.0.0 --port 8080        # reachable from the network
"""


def run(args: argparse.Namespace) -> int:
    from steervis.errors import SteervisError

    cfg = config_from(args)
    if cfg is None:
        return 0
    try:
        from steervis.serve.app import run_server
    except ImportError as err:  # the web stack is an extra: the rest of steervis runs without it
        raise SteervisError(f"steervis serve needs FastAPI and uvicorn ({err.name} is missing): "
                            "pip install 'steervis[serve]'.") from None
    run_server(cfg)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.commands._options import NON_NEGATIVE_INT, POSITIVE_INT
    from steervis.serve.config import ServeConfig

    parser = sub.add_parser("serve", help="a local web page: chat, classify, describe, open reports",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(parser, ServeConfig, ["host", "port", "runs", "vlm", "adapter", "method", "classes", "device",
                                     "dtype"],
               bounds={"port": NON_NEGATIVE_INT, "max_new_tokens": POSITIVE_INT,
                       "max_message_chars": POSITIVE_INT, "max_upload_mb": POSITIVE_INT,
                       "uploads_kept": POSITIVE_INT})
    parser.set_defaults(func=run)
