"""Session assignments of SET (what the plugin tracks) and ALTER TABLE's implied drops."""

from __future__ import annotations

import pytest

from policies.sql import classify

CS = ("character_set_client", "character_set_connection", "character_set_results")


@pytest.mark.parametrize(
    ("sql", "pairs"),
    [
        ("SET NAMES gbk", [(v, "gbk") for v in CS]),
        ("set names 'utf8mb4' collate 'utf8mb4_bin'", [*((v, "utf8mb4") for v in CS),
                                                       ("collation_connection", "utf8mb4_bin")]),
        ("SET NAMES DEFAULT", [(v, "DEFAULT") for v in CS]),
        ("SET CHARACTER SET sjis", [("character_set_client", "sjis"), ("character_set_results", "sjis"),
                                    ("character_set_connection", "@@character_set_database"),
                                    ("collation_connection", "@@collation_database")]),
        ("SET CHARSET big5", [("character_set_client", "big5"), ("character_set_results", "big5"),
                              ("character_set_connection", "@@character_set_database"),
                              ("collation_connection", "@@collation_database")]),
        ("SET character_set_results = binary", [("character_set_results", "binary")]),
        ("SET character_set_results=NULL", [("character_set_results", "NULL")]),
        ("SET SESSION character_set_results = 'utf16'", [("character_set_results", "utf16")]),
        ("SET LOCAL character_set_client := latin1", [("character_set_client", "latin1")]),
        ("SET @@character_set_results = utf32", [("character_set_results", "utf32")]),
        ("SET @@session.Character_Set_Results = ucs2, @@local.collation_connection = big5_bin",
         [("character_set_results", "ucs2"), ("collation_connection", "big5_bin")]),
        ("SET `character_set_results` = `binary`", [("character_set_results", "binary")]),
        ("SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'", [("sql_mode", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES")]),
        ("SET sql_mode = CONCAT(@@sql_mode, ',ANSI')", [("sql_mode", "CONCAT ( @@ sql_mode , ',ANSI' )")]),
        ("SET character_set_results=@x", [("character_set_results", "@ x")]),
        ("SET GLOBAL character_set_results = binary", []),
        ("SET @@global.sql_mode = ''", []),
        ("SET @x = 1, @@sql_mode = ''", [("sql_mode", "")]),
        ("SET GLOBAL a = 1, character_set_results = binary", [("character_set_results", "binary")]),
        ("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", []),
        ("SET PASSWORD = 'x'", []),
        ("SET STATEMENT character_set_results=binary FOR SELECT 1", [("character_set_results", "binary")]),
        ("SET /*!character_set_results*/ = binary", [("character_set_results", "binary")]),
    ],
)  # fmt: skip
def test_assignments(sql: str, pairs: list[tuple[str, str]]) -> None:
    assert list(classify(sql).statements[0].assignments) == pairs


def test_string_value_unquoted_under_the_session_modes() -> None:
    sql = "SET sql_mode = 'a\\'b'"
    assert classify(sql).statements[0].assignments == (("sql_mode", "a'b"),)
    assert classify("SET sql_mode = 'a''b'", no_backslash_escapes=True).statements[0].assignments == (
        ("sql_mode", "a'b"),)


def test_set_statement_assignments_do_not_include_the_carried_statement() -> None:
    st = classify("SET STATEMENT sql_mode='' FOR SET NAMES gbk").statements[0]
    assert st.assignments == (("sql_mode", ""),)
    assert st.inner[0].assignments == tuple((v, "gbk") for v in CS)
