"""The PII guard: column-name rules, value rules on real DuckDB data, and masking of what it reports."""

from __future__ import annotations

import duckdb
import pytest

from cx_warehouse.quality.pii import check_column_name, mask, scan_relation


@pytest.mark.parametrize(
    ("column", "rule"),
    [
        ("first_name", "personal name"),
        ("last_name", "personal name"),
        ("name", "personal name"),
        ("email", "e-mail address"),
        ("respondent_email", "e-mail address"),
        ("linked_email", "e-mail address"),
        ("phone", "phone number"),
        ("customer_phone", "phone number"),
        ("birth_date", "birth date"),
        ("date_of_birth", "birth date"),
        ("postcode", "full postcode"),
        ("shipping_postcode", "full postcode"),
        ("house_number", "street address"),
        ("street", "street address"),
        ("comment", "free-text comment"),
        ("text", "free-text comment"),
        ("crm_id", "raw source identifier"),
        ("account_id", "raw source identifier"),
        ("loyalty_card_no", "raw source identifier"),
        ("anonymous_id", "raw source identifier"),
        ("author_handle", "raw source identifier"),
        ("id_value", "raw source identifier"),
    ],
)
def test_personal_column_names_are_flagged(column: str, rule: str) -> None:
    assert check_column_name(column) == rule


@pytest.mark.parametrize(
    "column",
    [
        "customer_key",
        "touchpoint_id",
        "contact_id",
        "postcode_area",
        "age_band",
        "city",
        "gender",
        "store_name",
        "product_name",
        "campaign_name",
        "is_email_reachable",
        "email_opens",
        "channel",
        "handle_seconds",
        "lifecycle_stage",
        "is_marketing_opted_in",
    ],
)
def test_bi_safe_column_names_pass(column: str) -> None:
    assert check_column_name(column) is None


def test_values_that_look_like_personal_data_are_found_under_any_column_name() -> None:
    con = duckdb.connect()
    con.execute(
        """
        create table t as select * from (values
            ('ck_1', 'jan@example.nl', '0612345678', '1234AB', 'SKU100001', '05-01-2026'),
            ('ck_2', 'x', '+31 6 1234 5678', '1234', 'WO00000012', 'T0000000139'),
            ('ck_3', 'y', '(020) 123 4567', '12345', 'CC000000123', '2026-01-05'),
            ('ck_4', 'z', '0031612345678', '9999 zz', 'whatsapp:31612345678', '31612345678')
        ) v(customer_key, segment, note_code, area, ref, other)
        """
    )
    findings = {(f.column, f.rule): f for f in scan_relation(con, "main", "t")}
    assert set(findings) == {
        ("segment", "e-mail address"),
        ("note_code", "phone number"),
        ("area", "full postcode"),
        ("other", "phone number"),  # the WhatsApp id 31612345678
    }
    assert findings[("note_code", "phone number")].rows == 4
    assert findings[("area", "full postcode")].rows == 2
    # Reported values are masked: the guard must not leak what it found into logs and the UI.
    assert "jan@example.nl" not in str(findings[("segment", "e-mail address")].examples)


def test_scan_of_a_missing_relation_is_an_error_not_a_pass() -> None:
    with pytest.raises(LookupError):
        scan_relation(duckdb.connect(), "bi", "nope")


def test_mask_keeps_the_shape_only() -> None:
    assert mask("jan@example.nl") == "j**@e******.nl"
    assert mask("1234AB") == "1*****"
