"""Fuzz target: the Hessian 2 decoder, compiled and pure-Python paths side by side.

For any bytes, each path must return a value or raise ``DecodeError`` (nothing else),
within the time its size allows (harness.within_time), with bounded error text; and
both paths must agree (the same error text, or values that encode to the same bytes).
Seeds: the Java-written vectors up to 4 KiB and one small instance of each hostile
shape of tests/hessian2/hostile.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

if __name__ == "__main__" and "--replay" not in sys.argv:  # fuzzing: coverage of our Python code guides atheris
    import atheris

    with atheris.instrument_imports(include=["hessian2"]):
        import hessian2
        from hessian2 import _decoder
else:
    import hessian2
    from hessian2 import _decoder

from tests.fuzz.harness import main, within_time

VECTORS = Path(__file__).resolve().parents[1] / "hessian2" / "vectors"


def _outcome(data: bytes, compiled: bool) -> tuple[str, str | bytes]:
    previous = _decoder.use_compiled(compiled)
    try:
        value = within_time(lambda: hessian2.loads(data), len(data), "decode")
    except hessian2.DecodeError as exc:
        text = str(exc)
        if len(text) > 1500:
            raise AssertionError(f"error text of {len(text)} characters") from exc
        return ("error", text)
    finally:
        _decoder.use_compiled(previous)
    try:
        return ("value", hessian2.dumps(value))
    except hessian2.EncodeError as exc:  # a value the encoder refuses (e.g. a lone Short out of range)
        return ("value", f"unencodable: {type(exc).__name__}")


def one_input(data: bytes) -> None:
    compiled = _outcome(data, True)
    if not _decoder.SPEEDUPS:
        return
    pure = _outcome(data, False)
    if compiled != pure:
        raise AssertionError(f"the paths disagree: compiled {compiled!r:.300} / pure {pure!r:.300}")


def seeds() -> dict[str, bytes]:
    from tests.hessian2 import hostile

    found = {f"vector-{p.stem}": p.read_bytes() for p in sorted(VECTORS.glob("*.bin")) if p.stat().st_size <= 4096}
    found.update(
        {
            "hostile-fanout": hostile.fanout(6, 3),
            "hostile-error-fanout": hostile.error_fanout(6, 3),
            "hostile-error-fanout-date": hostile.error_fanout(4, 2, target="local_date"),
            "hostile-colliding-decimal": hostile.colliding_keys(40, "decimal"),
            "hostile-colliding-uuid": hostile.colliding_keys(12, "uuid"),
            "hostile-merging-keys": hostile.merging_keys(),
            "hostile-fresh-names": hostile.fresh_names(7, fields=6, name_size=8),
            "hostile-deep-nesting": hostile.deep_nesting(260),
        }
    )
    found.update({f"hostile-claim-{name}": blob for name, blob in hostile.huge_claims().items()})
    return found


if __name__ == "__main__":
    main(one_input)
