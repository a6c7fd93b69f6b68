"""Column types and the type sets the row codecs and masking decide by."""

from __future__ import annotations

from plugins.mysql.codec.constants import column_types as K


def test_well_known_values():
    assert (K.MYSQL_TYPE_DECIMAL, K.MYSQL_TYPE_GEOMETRY, K.MYSQL_TYPE_VAR_STRING) == (0, 255, 253)
    assert K.BINARY_COLLATION == 63


def test_type_sets():
    assert K.TEXT_LIKE_TYPES <= K.STRING_TYPES
    assert not K.STRING_TYPES & set(K.FIXED_SIZE_TYPES)
    assert not K.STRING_TYPES & K.TEMPORAL_TYPES
    assert K.MYSQL_TYPE_NEWDECIMAL in K.STRING_TYPES - K.TEXT_LIKE_TYPES
