"""The Java API tools' exception tree: every error they raise derives from ``JavaApiError``.

```
ProviderError
 +-- JavaApiError          a Java API cannot be read or written as asked (says what and where)
      +-- ClassFileError   bytes that are not a well-formed class file (JVMS chapter 4)
      +-- ArchiveError     a jar or directory that cannot be read within the bounds
```

Every problem with the input, however hostile, ends as one of these with a message
naming the file and what is wrong; nothing else escapes ``import-java`` or ``java-api``.
"""

from __future__ import annotations

from dubbo_recsys.provider.errors import ProviderError

__all__ = ["ArchiveError", "ClassFileError", "JavaApiError"]


class JavaApiError(ProviderError, ValueError):
    """A Java API that cannot be read or generated (a name Python or Java cannot spell, ...)."""


class ClassFileError(JavaApiError):
    """Bytes that are not a well-formed class file: truncated, a bad index, a bad signature."""


class ArchiveError(JavaApiError):
    """A jar or class directory that cannot be read: not a zip, over a size bound, a zip bomb."""
