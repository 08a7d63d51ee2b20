"""PII guard: does a BI-facing relation hold direct personal data? By column name AND by column content.

The contract ("What the warehouse publishes"): no name, e-mail, phone, street address, full postcode (the
4-digit area is fine), birth date (an age band is fine), free-text comment, or raw source identifier a
person could be looked up by (crm_id, account_id, loyalty card, cookie, handle). ``customer_key`` is a
pseudonym and allowed.

Two independent rules, so that renaming a column does not smuggle data past the guard:

* **names** (:data:`NAME_RULES`): a column whose name says it is personal data.
* **values** (:data:`VALUE_RULES`): every text column is scanned in full (in DuckDB, not sampled) for
  values that look like an e-mail address, a phone number or a full Dutch postcode. Findings show masked
  examples only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

# Aggregates and flags about personal data are fine (``is_email_reachable``, ``email_opens``, ``n_phone``).
_ALLOWED_NAME = re.compile(
    r"^(is|has|n|num|nr|count|pct|share)_|_(count|flag|rate|pct|share|opens|clicks|area)$"
)

NAME_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "personal name",
        re.compile(
            r"^(name|surname|initials|voornaam|achternaam|naam)$"
            r"|(^|_)(first|last|given|family|middle|full|maiden|sur|customer|contact|display|respondent)_?name$"
        ),
    ),
    ("e-mail address", re.compile(r"(^|_)e_?mail(_?address|_addr)?$")),
    ("phone number", re.compile(r"(^|_)(phone|telephone|telefoon|mobile|msisdn|gsm)(_?number|_no|_e164)?$")),
    ("birth date", re.compile(r"birth|(^|_)dob$|geboorte")),
    ("full postcode", re.compile(r"(^|_)(postcode|postal_?code|zip_?code|zip)$")),
    ("street address", re.compile(r"street|straat|(^|_)address(_line\d?)?$|house_?number|huisnummer")),
    (
        "free-text comment",
        re.compile(r"comment|free_?text|remark|(^|_)notes?$|(^|_)text$|(^|_)body$|opmerking"),
    ),
    (
        "raw source identifier",
        re.compile(
            r"(^|_)(crm_id|account_id|loyalty_card(_no|_number|_id)?|anonymous_id|cookie(_id)?|handle"
            r"|author_handle|social_handle|id_value|ip_address|ip)$"
        ),
    ),
)

# SQL predicates over one VARCHAR column ``{col}`` (DuckDB, RE2 regular expressions), applied to every value.
VALUE_RULES: tuple[tuple[str, str], ...] = (
    (
        "e-mail address",
        r"regexp_matches({col}, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{{2,}}')",
    ),
    # 0612345678, 06-12345678, +31 6 1234 5678, 0031612345678, (020) 123 4567, +4915112345678 and a WhatsApp
    # id 31612345678: only phone characters, and the digits of a Dutch (10) or international (10-15) number.
    (
        "phone number",
        r"regexp_matches({col}, '^[ ]*[+(]?[0-9(][0-9 ()-]{{6,20}}$') and ("
        r"regexp_matches(regexp_replace({col}, '[^0-9+]', '', 'g'), '^([+]|00)[1-9][0-9]{{8,13}}$')"
        r" or regexp_matches(regexp_replace({col}, '[^0-9]', '', 'g'), '^0[1-9][0-9]{{8}}$')"
        r" or regexp_matches({col}, '^[ ]*31[1-9][0-9]{{8}}[ ]*$'))",
    ),
    ("full postcode", r"regexp_matches({col}, '^[ ]*[1-9][0-9]{{3}}[ ]?[A-Za-z]{{2}}[ ]*$')"),
)

TEXT_TYPES = ("VARCHAR", "TEXT", "STRING")


@dataclass(frozen=True)
class PiiFinding:
    relation: str
    column: str
    rule: str  # what it looks like ("e-mail address", ...)
    how: str  # "column name" or "values"
    rows: int  # rows whose value matched (0 for a name finding)
    examples: tuple[str, ...] = ()  # masked

    def describe(self) -> str:
        where = f"{self.relation}.{self.column}"
        if self.how == "column name":
            return f"{where}: column name looks like {self.rule}"
        shown = ", ".join(self.examples)
        return f"{where}: {self.rows} value(s) look like {self.rule} (e.g. {shown})"


def check_column_name(column: str) -> str | None:
    """The personal-data rule a column name breaks, or None."""
    name = column.strip().lower()
    if _ALLOWED_NAME.search(name):
        return None
    for rule, pattern in NAME_RULES:
        if pattern.search(name):
            return rule
    return None


def mask(value: str) -> str:
    """Show the shape of a value, not the value: ``jan@example.nl`` -> ``j**@e******.nl``."""
    parts = re.split(r"([@.\s+\-()])", value.strip())
    out = []
    for i, part in enumerate(parts):
        is_tld = i == len(parts) - 1 and i >= 2 and parts[i - 1] == "." and part.isalpha() and len(part) <= 3
        out.append(part if len(part) <= 1 or is_tld else part[0] + "*" * (len(part) - 1))
    return "".join(out)[:40]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def relation_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    rows = con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_catalog = current_database() and table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [schema, table],
    ).fetchall()
    return [(str(name), str(dtype)) for name, dtype in rows]


def scan_relation(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, *, examples: int = 3
) -> list[PiiFinding]:
    """Every PII finding for one relation: column names, then the full content of its text columns."""
    relation = f"{schema}.{table}"
    columns = relation_columns(con, schema, table)
    if not columns:
        raise LookupError(f"relation {relation} does not exist or has no columns")
    findings = [
        PiiFinding(relation, column, rule, "column name", 0)
        for column, _ in columns
        if (rule := check_column_name(column)) is not None
    ]
    text_columns = [c for c, dtype in columns if dtype.upper().split("(")[0] in TEXT_TYPES]
    table_sql = f"{_quote(schema)}.{_quote(table)}"
    for column in text_columns:
        col = _quote(column)
        for rule, template in VALUE_RULES:
            predicate = template.format(col=col)
            row = con.execute(
                f"select count(*) from {table_sql} where {col} is not null and {predicate}"
            ).fetchall()[0]
            count = int(row[0]) if row else 0
            if count:
                sample = con.execute(
                    f"select distinct {col} from {table_sql} where {col} is not null and {predicate} "
                    f"order by 1 limit {examples}"
                ).fetchall()
                masked = tuple(mask(str(v[0])) for v in sample)
                findings.append(PiiFinding(relation, column, rule, "values", count, masked))
    return findings


def scan_schema(
    con: duckdb.DuckDBPyConnection, schema: str, tables: Iterable[str] | None = None
) -> list[PiiFinding]:
    """PII findings for every relation (table or view) of ``schema`` (or only ``tables``)."""
    names = list(tables) if tables is not None else list_relations(con, schema)
    findings: list[PiiFinding] = []
    for table in names:
        findings.extend(scan_relation(con, schema, table))
    return findings


def list_relations(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    """Tables and views of ``schema`` in the connection's default database, by name."""
    rows = con.execute(
        """
        select table_name from information_schema.tables
        where table_catalog = current_database() and table_schema = ?
        order by table_name
        """,
        [schema],
    ).fetchall()
    return [str(r[0]) for r in rows]
