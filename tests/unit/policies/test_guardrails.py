from __future__ import annotations

import pytest

from bastion.core.types import Command, FileOp, Forward, Query, Verdict
from policies.files import GuardMatch, GuardRule, ReviewSpec, Scope
from policies.guardrails import GuardrailPolicy
from tests.conftest import make_identity, make_session, make_target

RULES = (
    GuardRule(id="no-drop", action="deny", match=GuardMatch(keywords=["DROP", "TRUNCATE"]), message="no drops"),
    GuardRule(id="review-unbounded", action="review", match=GuardMatch(flags=["unbounded_write"]),
              review=ReviewSpec(approvers=["approvers"], approvals=2, hold_seconds=60, window_seconds=120)),
    GuardRule(id="prod-ddl", action="deny", scope=Scope(tags=["prod"], unless_groups=["dba"]),
              match=GuardMatch(kinds=["ddl"])),
    GuardRule(id="audit-pii", action="audit", match=GuardMatch(tables=["customers"])),
    GuardRule(id="secrets-table", action="deny", match=GuardMatch(tables=["vault.*"])),
    GuardRule(id="regex", action="deny", match=GuardMatch(regex=r"\bpg_sleep\b|\bxp_cmdshell\b")),
    GuardRule(id="rm-rf", action="deny", scope=Scope(protocols=["ssh"]),
              match=GuardMatch(programs=["rm"], command_regex=r"\s-\w*[rR]")),
    GuardRule(id="shutdown", action="review", scope=Scope(protocols=["ssh"]),
              match=GuardMatch(programs=["shutdown", "reboot"])),
    GuardRule(id="etc-write", action="deny", scope=Scope(protocols=["ssh"]),
              match=GuardMatch(file_ops=["open-write", "remove", "rename"], paths=["/etc/*"])),
    GuardRule(id="fwd-db", action="allow", scope=Scope(protocols=["ssh"]),
              match=GuardMatch(forward_to=["127.0.0.1:3306"])),
)


def stage(rules=RULES) -> GuardrailPolicy:  # type: ignore[no-untyped-def]
    return GuardrailPolicy(rules=tuple(rules))


def q(sql: str, groups: tuple[str, ...] = ("developers",), tags: tuple[str, ...] = ("prod",), **kw) -> Query:  # type: ignore[no-untyped-def]
    return Query(session=make_session(make_identity(groups=groups), make_target(tags=tags)), sql=sql, **kw)


SSH = make_target(name="web01", protocol="ssh", tags=("linux",), accounts=("deploy",))


@pytest.mark.parametrize(
    ("sql", "verdict", "rule"),
    [
        ("SELECT * FROM orders WHERE id = 1", None, None),
        ("DROP TABLE orders", Verdict.DENY, "guardrails:no-drop"),
        ("/*!50000 DROP TABLE orders*/", Verdict.DENY, "guardrails:no-drop"),
        ("truncate orders", Verdict.DENY, "guardrails:no-drop"),
        ("DELETE FROM orders", Verdict.REVIEW, "guardrails:review-unbounded"),
        ("DELETE FROM orders WHERE id = 3", None, None),
        ("UPDATE orders SET x = 1 LIMIT 5", Verdict.REVIEW, "guardrails:review-unbounded"),
        ("ALTER TABLE orders ADD c INT", Verdict.DENY, "guardrails:prod-ddl"),
        ("SELECT * FROM vault.keys", Verdict.DENY, "guardrails:secrets-table"),
        ("SELECT pg_sleep(1)", Verdict.DENY, "guardrails:regex"),
        ("SELECT 1; DELETE FROM orders WHERE id = 1", Verdict.DENY, "guardrails:single-statement"),
        ("FROBNICATE THE DATABASE", Verdict.DENY, "guardrails:fail-closed-unknown"),
        ('SELECT "a" ; DROP TABLE t', Verdict.DENY, None),
    ],
    ids=["read", "drop", "versioned-drop", "truncate", "unbounded-delete", "bounded-delete", "limit-only-update",
         "prod-ddl", "table-glob", "regex", "multi", "unknown", "ansi-quotes-both-ways"],
)
def test_sql_rules(sql, verdict, rule):
    decision = stage().decide(q(sql))
    if verdict is None:
        assert decision is None or decision.audit_only
    else:
        assert decision is not None and decision.verdict is verdict
        if rule:
            assert decision.rule == rule


def test_review_carries_spec():
    d = stage().decide(q("DELETE FROM orders"))
    assert d.approvers == {"approvers"} and d.approvals_needed == 2 and d.hold_seconds == 60 and d.window_seconds == 120


def test_scope_exemption_and_tags():
    assert stage().decide(q("ALTER TABLE orders ADD c INT", groups=("dba",))) is None
    assert stage().decide(q("ALTER TABLE orders ADD c INT", tags=("staging",))) is None


def test_audit_rule_is_audit_only():
    d = stage().decide(q("SELECT email FROM customers WHERE id = 1"))
    assert d is not None and d.audit_only and d.rule == "guardrails:audit-pii"


def test_deny_beats_allow():
    rules = (GuardRule(id="allow-all", action="allow", match=GuardMatch(kinds=["ddl"])),
             GuardRule(id="deny-drop", action="deny", match=GuardMatch(keywords=["DROP"])))
    assert stage(rules).decide(q("DROP TABLE x")).verdict is Verdict.DENY


@pytest.mark.parametrize(
    ("line", "verdict"),
    [
        ("ls -la /tmp", None),
        ("rm -rf /var/www", Verdict.DENY),
        ("sudo rm -Rf /", Verdict.DENY),
        ("cd /tmp && /bin/rm -r x", Verdict.DENY),
        ("echo hi; rm -r x", Verdict.DENY),
        ("rm file.txt", None),
        ("sudo reboot", Verdict.REVIEW),
        ("FOO=1 shutdown -h now", Verdict.REVIEW),
    ],
)
def test_command_rules(line, verdict):
    d = stage().decide(Command(session=make_session(target=SSH), line=line))
    assert (d.verdict if d else None) is verdict


@pytest.mark.parametrize(
    ("op", "path", "verdict"),
    [("open-write", "/etc/passwd", Verdict.DENY), ("open-read", "/etc/passwd", None),
     ("rename", "/etc/hosts", Verdict.DENY), ("open-write", "/home/u/x", None)],
)
def test_file_rules(op, path, verdict):
    d = stage().decide(FileOp(session=make_session(target=SSH), op=op, path=path))
    assert (d.verdict if d else None) is verdict


def test_forward_rules():
    ok = stage().decide(Forward(session=make_session(target=SSH), host="127.0.0.1", port=3306))
    assert ok is not None and ok.verdict is Verdict.ALLOW
    assert stage().decide(Forward(session=make_session(target=SSH), host="10.0.0.1", port=22)) is None


def test_sql_rules_do_not_apply_to_ssh_and_vice_versa():
    assert stage().decide(Command(session=make_session(target=make_target()), line="rm -rf /")) is None


def _demo_rules() -> tuple[GuardRule, ...]:
    from bastion.config.schema import Issues, build
    from bastion.demo.setup import DEMO_GUARDRAILS
    from policies.files import PolicyDocument

    issues = Issues("demo")
    doc = build(PolicyDocument, {"guardrails": DEMO_GUARDRAILS}, issues)
    assert doc is not None and not issues.errors
    return tuple(doc.guardrails)


ALICE = ("dba",)  # under no-drop and delete-needs-approval, exempt from no-admin
BOB = ("developers",)  # also under no-admin and unmaskable-expressions


@pytest.mark.parametrize(
    ("sql", "groups", "verdict", "rule"),
    [
        ("SET STATEMENT max_statement_time=0 FOR DROP TABLE t", ALICE, Verdict.DENY, "no-drop"),
        ("SET STATEMENT max_statement_time=0 FOR DROP DATABASE shop", ALICE, Verdict.DENY, "no-drop"),
        ("SET STATEMENT max_statement_time=0 FOR TRUNCATE t", ALICE, Verdict.DENY, "no-drop"),
        ("PREPARE p FROM 'DROP TABLE t'", ALICE, Verdict.DENY, "no-drop"),
        ("PREPARE p FROM 'DELETE FROM t WHERE id = 1'", ALICE, Verdict.REVIEW, "delete-needs-approval"),
        ("CREATE PROCEDURE p() DROP TABLE t", ALICE, Verdict.DENY, "no-drop"),
        ("CREATE PROCEDURE p() DELETE FROM t WHERE id = 1", ALICE, Verdict.REVIEW, "delete-needs-approval"),
        ("ANALYZE DELETE FROM t", ALICE, Verdict.REVIEW, "delete-needs-approval"),
        ("EXECUTE IMMEDIATE 'DROP TABLE t'", ALICE, Verdict.DENY, "no-drop"),
        ("SELECT card_number FROM customers PROCEDURE ANALYSE()", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("SELECT * FROM customers PROCEDURE ANALYSE()", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("CREATE OR REPLACE TABLE t (a INT)", ALICE, Verdict.DENY, "no-drop"),
        ("ALTER TABLE t DROP COLUMN c", ALICE, Verdict.DENY, "no-drop"),
        ("ALTER TABLE t ENGINE=BLACKHOLE", ALICE, Verdict.DENY, "no-drop"),
        ("ALTER IGNORE TABLE t ADD UNIQUE (c)", ALICE, Verdict.REVIEW, "delete-needs-approval"),
        ("WITH x AS (SELECT 1) DELETE FROM t WHERE id = 1", ALICE, Verdict.REVIEW, "delete-needs-approval"),
        ("with recursive x as (select 1) delete from t", ALICE, Verdict.REVIEW, "delete-needs-approval"),
        # a masked column's value carried out of masking's sight: into a variable, or
        # renamed by a derived table or CTE before an expression wraps it
        ("SELECT card_number INTO @v FROM customers LIMIT 1", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("SET @v = (SELECT card_number FROM customers LIMIT 1)", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("WITH t AS (SELECT card_number c FROM customers) SELECT REVERSE(c) FROM t", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("WITH t(c) AS (SELECT 1 AS x UNION SELECT card_number FROM customers) SELECT REVERSE(c) FROM t", BOB,
         Verdict.DENY, "unmaskable-expressions"),
        ("SELECT UPPER(e) FROM (SELECT id, email AS e FROM customers) AS d", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("WITH a AS (SELECT card_number AS x FROM customers), b AS (SELECT x AS y FROM a) SELECT HEX(y) FROM b", BOB,
         Verdict.DENY, "unmaskable-expressions"),
        # selected plainly, but through a derived table, CTE or UNION: the result's column
        # origin names the alias (or nothing), so masking by column could not find it
        ("WITH t AS (SELECT id, card_number FROM customers) SELECT id + 1, card_number FROM t", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("SELECT c FROM (SELECT card_number AS c FROM customers) t", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("SELECT * FROM (SELECT * FROM customers) t", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("SELECT card_number FROM customers UNION SELECT 1", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("INSERT INTO t2 SELECT card_number FROM customers", BOB, Verdict.DENY, "unmaskable-expressions"),
        # computed on outside the SELECT list: an error (EXTRACTVALUE, UPDATEXML) or a
        # warning (DATE, an implicit cast) returns the value transformed, past every
        # recognizer; or copied to another column
        ("SELECT 1 FROM customers WHERE EXTRACTVALUE(1, CONCAT(0x7e, REVERSE(card_number)))", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("SELECT 1 FROM customers WHERE UPDATEXML(1, CONCAT('~', (email)), 1)", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("SELECT id FROM customers WHERE DATE(REVERSE(email))", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("SELECT id FROM customers ORDER BY REVERSE(card_number)", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("SELECT id FROM customers GROUP BY id HAVING MAX(REVERSE(email)) > ''", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("SELECT c.id FROM customers c JOIN orders o ON o.note = CONCAT(c.email, 'x')", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("SELECT id FROM customers WHERE card_number + 0", BOB, Verdict.DENY, "unmaskable-expressions"),
        ("UPDATE customers SET notes = card_number WHERE id = 1", ALICE, Verdict.DENY, "unmaskable-expressions"),
        ("UPDATE customers SET notes = (email) WHERE id = 1", ALICE, Verdict.DENY, "unmaskable-expressions"),
        # compared, filtered, grouped or sorted by plainly: inference (docs/masking.md)
        ("SELECT id FROM customers WHERE card_number LIKE '4111%' AND (email) = 'a@b.c'", BOB, None, None),
        ("SELECT id FROM customers WHERE email IN ('a', 'b') OR email IS NULL OR email BETWEEN 'a' AND 'b'", BOB,
         None, None),
        ("SELECT id FROM customers WHERE email REGEXP '^a' AND NOT (card_number <=> 'x')", BOB, None, None),
        ("SELECT id FROM customers WHERE CASE WHEN card_number LIKE '4%' THEN 1 END", BOB, None, None),
        ("SELECT email, card_number FROM customers GROUP BY email, card_number ORDER BY email DESC", BOB, None,
         None),
        ("SELECT c.id FROM customers c JOIN orders o ON o.email = c.email", BOB, None, None),
        ("SELECT id FROM customers WHERE (email, id) IN (('a', 1)) AND NOT email", BOB, None, None),
        ("SELECT id FROM customers WHERE (CONCAT(email, ''), id) IN (('a', 1))", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("UPDATE customers SET notes = 'x' WHERE card_number = '1'", ALICE, None, None),
        ("SELECT card_number, email FROM customers", BOB, None, None),
        ("SELECT id FROM customers UNION SELECT id FROM orders", BOB, None, None),
        ("SELECT COUNT(*) FROM (SELECT id FROM customers) t", BOB, None, None),
        ("SELECT name FROM customers c WHERE EXISTS (SELECT * FROM orders o WHERE o.customer_id = c.id)", BOB, None,
         None),
        ("SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders)", BOB, None, None),
        ("SET @v = 1", BOB, None, None),
        ("ALTER TABLE t DISCARD TABLESPACE", ALICE, Verdict.DENY, "no-drop"),
        ("RENAME TABLE a TO b", ALICE, None, None),
        ("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", ALICE, None, None),
        ("CREATE PROCEDURE p() BEGIN SELECT 1; IF 1 THEN DROP TABLE t; END IF; END", ALICE, Verdict.DENY, "no-drop"),
        ("CREATE PROCEDURE p() BEGIN SELECT HEX(card_number) FROM customers; END", BOB, Verdict.DENY,
         "unmaskable-expressions"),
        ("BEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR SQLEXCEPTION TRUNCATE t; SELECT 1; END", ALICE,
         Verdict.DENY, "no-drop"),
        ("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW DELETE FROM u WHERE id = NEW.id", ALICE,
         Verdict.REVIEW, "delete-needs-approval"),
        ("SELECT a FROM t INTO OUTFILE '/tmp/x'", ALICE, Verdict.DENY, "no-file-access"),
        ("UPDATE t SET a = 1 WHERE id = 1 RETURNING (", ALICE, Verdict.DENY, "fail-closed-unparseable"),
        # no AST for a huge skeleton: wrapped columns unknown, so masked users are refused
        ("SELECT " + ", ".join(f"HEX(c{i})" for i in range(3000)) + ", card_number FROM customers", BOB,
         Verdict.DENY, "unmaskable-expressions"),
    ],
)  # fmt: skip
def test_demo_rules_judge_every_effective_statement(sql: str, groups: tuple[str, ...], verdict: Verdict | None,
                                                     rule: str | None) -> None:
    query = Query(session=make_session(make_identity(groups=groups), make_target(name="shop-db")), sql=sql)
    decision = stage(_demo_rules()).decide(query)
    if verdict is None:
        assert decision is None or decision.verdict is Verdict.ALLOW, decision
    else:
        assert decision is not None and (decision.verdict, decision.rule) == (verdict, f"guardrails:{rule}")
