"""A Java contract (java/) served from Python: contract.py binds its classes, provider.py implements it."""
