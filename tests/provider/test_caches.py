"""What a stream of requests naming never-seen types or versions can make the provider keep: bounded in bytes."""

from __future__ import annotations

import sys

import pytest

from dubbo_recsys.provider.body import _supports_response_attachments, supports_response_attachments
from dubbo_recsys.provider.descriptor import (
    MAX_DESCRIPTOR_LENGTH,
    MAX_TYPE_NAME_LENGTH,
    canonical_type_name,
    parse_descriptor,
    type_descriptor,
)
from dubbo_recsys.provider.errors import DescriptorError


@pytest.mark.parametrize(
    "function, longest, make",
    [
        (parse_descriptor, MAX_DESCRIPTOR_LENGTH, lambda i, n: "L" + f"a/C{i:05d}".ljust(n - 2, "x") + ";"),
        (canonical_type_name, MAX_TYPE_NAME_LENGTH, lambda i, n: f"a.C{i:05d}".ljust(n, "x")),
        (type_descriptor, MAX_TYPE_NAME_LENGTH, lambda i, n: f"a.C{i:05d}".ljust(n, "x")),
    ],
)
def test_names_callers_send_are_kept_within_a_fixed_number_of_bytes(function, longest, make):
    function.cache_clear()
    for i in range(300):  # more than any cache's entries
        function(make(i, longest))  # the longest accepted, all new
        with pytest.raises(DescriptorError, match="too long"):
            function(make(i, longest + 1))  # refused, so never kept
    info = function.cache_info()
    assert info.currsize == info.maxsize  # full, and no fuller
    # an entry holds a key of at most `longest` characters and a result of about the same size
    assert info.maxsize * 2 * (sys.getsizeof("") + longest) <= 2.1 * 1024 * 1024


def test_dubbo_versions_longer_than_any_real_one_are_never_cache_keys():
    _supports_response_attachments.cache_clear()
    for i in range(1_000):
        supports_response_attachments("2.0." + "9" * (40 + i))
    assert _supports_response_attachments.cache_info().currsize == 0
