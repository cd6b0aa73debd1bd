"""Hostile callers of the dubbo:// port, a well-behaved consumer to run beside them, and a served process to
measure: shared by ``tests/provider/test_attacks.py`` and ``bench/attacks/run_attacks.py``."""
