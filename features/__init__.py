"""The feature store: what recall and rank read about users and items, and what a user has seen.

Start with ``open_features(FeaturesConfig(...))`` (``features.config``): it picks
the backend from one config slice. Backends (all satisfy ``FeatureStore`` / ``SeenFilter`` from ``features.base``):

- ``EmbeddedFeatureStore`` and ``InMemorySeenFilter``: in process, no extra packages.
- ``features.redis.RedisFeatureStore`` and ``RedisSeenFilter``: on Redis; import them from
  ``features.redis`` (it needs the ``redis`` extra, so this package does not import it).

Error tree (every error the package raises)::

    FeatureStoreError
     +-- FeatureCodecError      a value or artifact record breaks the row schema
     +-- ArtifactError          missing file, unsupported format, bad line (file:line)
     +-- RedisStoreError        Redis unreachable, timed out, or answered oddly (features.redis)
"""

from dubbo_recsys.features.artifacts import ArtifactError, ArtifactFeatures
from dubbo_recsys.features.base import FeatureStore, FeatureStoreError, ItemFeatures, SeenFilter, UserFeatures
from dubbo_recsys.features.bloom import BloomSpec
from dubbo_recsys.features.codec import FeatureCodecError, KeyLayout
from dubbo_recsys.features.config import FeatureBackend, Features, FeaturesConfig, open_features
from dubbo_recsys.features.embedded import EmbeddedFeatureStore
from dubbo_recsys.features.seen import InMemorySeenFilter, SeenConfig

__all__ = [
    "ArtifactError",
    "ArtifactFeatures",
    "BloomSpec",
    "EmbeddedFeatureStore",
    "FeatureBackend",
    "FeatureCodecError",
    "FeatureStore",
    "FeatureStoreError",
    "Features",
    "FeaturesConfig",
    "InMemorySeenFilter",
    "ItemFeatures",
    "KeyLayout",
    "SeenConfig",
    "SeenFilter",
    "UserFeatures",
    "open_features",
]
