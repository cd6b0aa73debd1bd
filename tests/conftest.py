"""Suite-wide pytest configuration; shared helpers live in ``tests/support.py``."""

import os

# `dubbo-recsys serve` binds every interface by default, as a Java provider does; servers the
# test run starts listen on 127.0.0.1 only (the machine is shared). Every `serve` a test spawns
# inherits this default (provider/settings.py); a test of the real default removes it.
os.environ.setdefault("DUBBO_RECSYS_SERVE_HOST", "127.0.0.1")
