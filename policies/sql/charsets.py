"""MariaDB character sets: collation ids, Python codecs, and the client charsets to refuse.

Contract (pure; the id table is MariaDB 10.11's ``information_schema.COLLATIONS``,
re-checked against the real server by tests/integration/mysql/test_oracle.py):

* :func:`charset_of` — collation id (handshake byte, column definition ``charsetnr``)
  → character set name, or None for an id the table does not know (refuse it).
* :func:`codec` — character set (or collation) name → Python codec that decodes values of
  that charset, or None when Python has none (refuse, or treat as opaque). ``binary``
  maps to ``latin-1``: byte-transparent, one character per byte, so masked output keeps
  its byte length. ``latin1`` is cp1252 in MariaDB (decode with ``errors="surrogateescape"``).
* :data:`ESCAPE_UNSAFE` — charsets whose multibyte characters can end in ``0x5c``
  (``\\``) or ``0x60`` (`````): lexing such a statement as bytes would see an escape or a
  quote the server does not (reproduction 6 of issue 14). No MariaDB charset has a
  multibyte character containing ``0x27`` or ``0x22``.
* :data:`NOT_ASCII_COMPATIBLE` — ucs2/utf16/utf16le/utf32: the server refuses them as
  ``character_set_client``; a result in them needs decoding before any recognizer runs.
* :func:`client_charset_problem` — why the bastion refuses a client charset, or None.
"""

from __future__ import annotations

_IDS: dict[str, tuple[tuple[int, int], ...]] = {
    "armscii8": ((32, 32), (64, 64), (1056, 1056), (1088, 1088)),
    "ascii": ((11, 11), (65, 65), (1035, 1035), (1089, 1089)),
    "big5": ((1, 1), (84, 84), (1025, 1025), (1108, 1108)),
    "binary": ((63, 63),),
    "cp1250": ((26, 26), (34, 34), (44, 44), (66, 66), (99, 99), (1050, 1050), (1090, 1090)),
    "cp1251": ((14, 14), (23, 23), (50, 52), (1074, 1075)),
    "cp1256": ((57, 57), (67, 67), (1081, 1081), (1091, 1091)),
    "cp1257": ((29, 29), (58, 59), (1082, 1083)),
    "cp850": ((4, 4), (80, 80), (1028, 1028), (1104, 1104)),
    "cp852": ((40, 40), (81, 81), (1064, 1064), (1105, 1105)),
    "cp866": ((36, 36), (68, 68), (1060, 1060), (1092, 1092)),
    "cp932": ((95, 96), (1119, 1120)),
    "dec8": ((3, 3), (69, 69), (1027, 1027), (1093, 1093)),
    "eucjpms": ((97, 98), (1121, 1122)),
    "euckr": ((19, 19), (85, 85), (1043, 1043), (1109, 1109)),
    "gb2312": ((24, 24), (86, 86), (1048, 1048), (1110, 1110)),
    "gbk": ((28, 28), (87, 87), (1052, 1052), (1111, 1111)),
    "geostd8": ((92, 93), (1116, 1117)),
    "greek": ((25, 25), (70, 70), (1049, 1049), (1094, 1094)),
    "hebrew": ((16, 16), (71, 71), (1040, 1040), (1095, 1095)),
    "hp8": ((6, 6), (72, 72), (1030, 1030), (1096, 1096)),
    "keybcs2": ((37, 37), (73, 73), (1061, 1061), (1097, 1097)),
    "koi8r": ((7, 7), (74, 74), (1031, 1031), (1098, 1098)),
    "koi8u": ((22, 22), (75, 75), (1046, 1046), (1099, 1099)),
    "latin1": ((5, 5), (8, 8), (15, 15), (31, 31), (47, 49), (94, 94), (1032, 1032), (1071, 1071)),
    "latin2": ((2, 2), (9, 9), (21, 21), (27, 27), (77, 77), (1033, 1033), (1101, 1101)),
    "latin5": ((30, 30), (78, 78), (1054, 1054), (1102, 1102)),
    "latin7": ((20, 20), (41, 42), (79, 79), (1065, 1065), (1103, 1103)),
    "macce": ((38, 38), (43, 43), (1062, 1062), (1067, 1067)),
    "macroman": ((39, 39), (53, 53), (1063, 1063), (1077, 1077)),
    "sjis": ((13, 13), (88, 88), (1037, 1037), (1112, 1112)),
    "swe7": ((10, 10), (82, 82), (1034, 1034), (1106, 1106)),
    "tis620": ((18, 18), (89, 89), (1042, 1042), (1113, 1113)),
    "ucs2": ((35, 35), (90, 90), (128, 151), (159, 159), (640, 642), (1059, 1059), (1114, 1114), (1152, 1152),
             (1174, 1174)),  # fmt: skip
    "ujis": ((12, 12), (91, 91), (1036, 1036), (1115, 1115)),
    "utf16": ((54, 55), (101, 124), (672, 674), (1078, 1079), (1125, 1125), (1147, 1147)),
    "utf16le": ((56, 56), (62, 62), (1080, 1080), (1086, 1086)),
    "utf32": ((60, 61), (160, 183), (736, 738), (1084, 1085), (1184, 1184), (1206, 1206)),
    "utf8mb3": ((33, 33), (83, 83), (192, 215), (223, 223), (576, 578), (1057, 1057), (1107, 1107), (1216, 1216),
                (1238, 1238)),  # fmt: skip
    "utf8mb4": ((45, 46), (224, 247), (608, 610), (1069, 1070), (1248, 1248), (1270, 1270)),
}
_BY_ID: dict[int, str] = {i: cs for cs, ranges in _IDS.items() for lo, hi in ranges for i in range(lo, hi + 1)}

_CODECS: dict[str, str | None] = {
    "armscii8": None, "ascii": "ascii", "big5": "big5", "binary": "latin-1", "cp1250": "cp1250",
    "cp1251": "cp1251", "cp1256": "cp1256", "cp1257": "cp1257", "cp850": "cp850", "cp852": "cp852",
    "cp866": "cp866", "cp932": "cp932", "dec8": None, "eucjpms": "euc_jp", "euckr": "euc_kr",
    "gb2312": "gb2312", "gbk": "gbk", "geostd8": None, "greek": "iso8859_7", "hebrew": "iso8859_8",
    "hp8": None, "keybcs2": None, "koi8r": "koi8_r", "koi8u": "koi8_u", "latin1": "cp1252",
    "latin2": "iso8859_2", "latin5": "iso8859_9", "latin7": "iso8859_13", "macce": "mac_latin2",
    "macroman": "mac_roman", "sjis": "shift_jis", "swe7": None, "tis620": "tis_620", "ucs2": "utf_16_be",
    "ujis": "euc_jp", "utf16": "utf_16_be", "utf16le": "utf_16_le", "utf32": "utf_32_be", "utf8mb3": "utf-8",
    "utf8mb4": "utf-8", "gb18030": "gb18030",
}  # fmt: skip
_ALIASES = {"utf8": "utf8mb3", "utf-8": "utf8mb4", "latin-1": "latin1"}

ESCAPE_UNSAFE = frozenset({"big5", "cp932", "gbk", "sjis", "gb18030"})
"""Multibyte characters may end in 0x5c or 0x60 (gb18030: MySQL 8 only, listed for safety)."""
NOT_ASCII_COMPATIBLE = frozenset({"ucs2", "utf16", "utf16le", "utf32"})


def charset_of(collation_id: int) -> str | None:
    """Character set of a MariaDB collation id, or None when unknown."""
    return _BY_ID.get(collation_id)


def normalize(name: str) -> str | None:
    """Character set named by a charset or collation name (any case, quotes removed); None if unknown."""
    key = name.strip().strip("'\"`").lower()
    key = _ALIASES.get(key, key)
    if key in _CODECS:
        return key
    prefix = key.split("_", 1)[0]
    prefix = _ALIASES.get(prefix, prefix)
    return prefix if prefix in _CODECS and "_" in key else None


def codec(name: str) -> str | None:
    """Python codec for a charset or collation name; None when there is none or the name is unknown."""
    charset = normalize(name)
    return _CODECS.get(charset) if charset else None


def codec_for_collation(collation_id: int) -> str | None:
    """Python codec of a collation id (see :func:`codec`)."""
    charset = charset_of(collation_id)
    return _CODECS.get(charset) if charset else None


def client_charset_problem(name: str) -> str | None:
    """Why ``name`` (charset or collation) cannot be the client charset behind the bastion, or None."""
    charset = normalize(name)
    if charset is None:
        return f"unknown character set {name[:40]!r}"
    if charset in ESCAPE_UNSAFE:
        return (f"character set {charset} is refused: its multibyte characters can contain the bytes of "
                "a backslash or a backquote, which would hide statement text from the guardrails")
    if charset in NOT_ASCII_COMPATIBLE:
        return f"character set {charset} cannot be a client character set"
    if _CODECS.get(charset) is None:
        return f"character set {charset} has no decoder in the bastion"
    return None
