"""Examples of Python providers for Java contracts (see each folder's README)."""
