"""A small landing tree written by hand (not by our generator), in 2019, with every kind of bad delivery.

It follows ``shared/extract-contract.md`` to the letter where it is good, and breaks it on purpose where the
contract's "Bad deliveries" section says a delivery may be bad. ``EXPECTED_BAD_FILES`` lists the files that
must be rejected whole (or recorded as malformed).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

DAYS = ("20191026", "20191027", "20191028")  # 27 October 2019 is the autumn DST change

CRM_HEADER = (
    "crm_id;first_name;last_name;email;phone;birth_date;postcode;house_number;city;gender;"
    "loyalty_card_no;marketing_opt_in;created_at;updated_at"
)
POS_HEADER = (
    "transaction_id,line_no,store_id,register_ts,loyalty_card_no,sku,quantity,unit_price_eur,"
    "discount_eur,payment_method"
)
CC_HEADER = (
    "contact_id;case_id;channel;customer_phone;customer_email;crm_id;started_at;ended_at;wait_seconds;"
    "handle_seconds;reason;outcome;agent_id;transfer_count"
)
EMAIL_HEADER = "event_id,campaign_id,campaign_name,campaign_type,email,event_type,ts,link_url"
SURVEY_HEADER = (
    "response_id,survey_type,touchpoint_ref,respondent_email,crm_id,responded_at,nps,csat,ces,"
    "effectiveness,ease,emotion,comment"
)
PRIVACY_HEADER = "request_id,crm_id,email,request_type,received_at"
PRODUCTS_HEADER = "sku,product_name,category,subcategory,brand,list_price_eur,active"
STORES_HEADER = "store_id,store_name,city,province,opened_on"

# Files that must end up rejected whole or malformed, with the reason's key words.
EXPECTED_BAD_FILES = {
    "contact_center_20191028.csv": "encoding",  # UTF-8 bytes where Windows-1252 is the contract
    "survey_responses_20191028.csv": "missing",  # a contract column is missing (emotion)
    "web_events_20191028.jsonl.gz": "gzip",  # truncated compressed file
    "email_events_20191028.csv": "",  # zero bytes, no header: malformed
}


def _write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write_foreign_tree(root: Path) -> None:
    """Write the tree under ``root`` (the landing root)."""
    d1, d2, d3 = DAYS
    # CRM: a BOM, quoted field with the delimiter and a newline, the ambiguous DST hour, a duplicate
    # registration of the same person, a household phone, a placeholder e-mail, and bad rows.
    _write(
        root / "crm_customers" / f"crm_customers_{d1}.csv",
        "\ufeff" + CRM_HEADER + "\n"
        "C1;Jan;de Vries; Jan.deVries@Example.nl ;06-12345678;01-02-1980;1234 ab;12;Utrecht;M;L001;J;"
        "2019-01-05 10:00:00;2019-10-26 09:00:00\n"
        'C2;Marie;"Jansen; van ""Dijk""\nsr";marie@example.nl;(020) 123 4567;15-06-1975;1011AB;3;Amsterdam;V;'
        "L002;N;2019-03-01 12:00:00;2019-10-26 11:00:00\n"
        "C3;Piet;Bakker;geen@email.nl;(020) 123 4567;30-11-1990;1011AB;3;Amsterdam;M;;J;"
        "2019-05-01 08:00:00;2019-10-26 12:00:00\n"
        "C4;Jan;de Vries;JAN.DEVRIES@example.nl;+31 6 1234 5678;01-02-1980;1234AB;12;Utrecht;M;;J;"
        "2019-10-26 13:00:00;2019-10-26 13:00:00\n"
        "C5;Too;Few;columns\n"  # wrong column count
        "C6;Bad;Date;bad@example.nl;0612340000;31-02-1980;1234AB;1;Utrecht;X;;J;"
        "2019-10-26 13:00:00;2019-10-26 13:00:00\n"  # unparseable birth date
        ";No;Key;nokey@example.nl;;;;;;;;N;2019-10-26 13:00:00;2019-10-26 13:00:00\n",  # missing key
    )
    _write(
        root / "crm_customers" / f"crm_customers_{d2}.csv",
        CRM_HEADER + ";loyalty_tier\n"  # an unknown extra column: loaded, recorded
        "C1;Jan;de Vries;jan.devries@example.nl;0612345678;01-02-1980;1234AB;12;Utrecht;M;L001;N;"
        "2019-01-05 10:00:00;2019-10-27 02:30:00;gold\n",  # in the repeated autumn hour
    )
    _write(root / "crm_customers" / f"crm_customers_{d3}.csv", CRM_HEADER + "\n")  # header only
    # POS: an _r2 re-delivery replaces the first file of the day; an in-store return; an unknown number.
    _write(
        root / "pos_transactions" / f"pos_transactions_{d1}.csv",
        POS_HEADER + "\nT1,1,S1,2019-10-26 14:00:00,L001,SKU1,2,9.99,0.00,pin\n"
        "T1,2,S1,2019-10-26 14:00:00,L001,SKU2,1,4.50,0.50,pin\n",
    )
    _write(
        root / "pos_transactions" / f"pos_transactions_{d1}_r2.csv",
        POS_HEADER + "\nT1,1,S1,2019-10-26 14:00:00,L001,SKU1,2,9.99,1.00,pin\n"
        "T2,1,S1,2019-10-26 15:00:00,,SKU2,-1,4.50,0.00,contant\n"
        "T3,1,S1,2019-10-26 15:30:00,,SKU2,one,4.50,0.00,contant\n",  # unparseable quantity
    )
    _write(root / "pos_transactions" / f"pos_transactions_{d2}.csv", POS_HEADER + "\n")
    # Webshop: order versions over two days (latest updated_at wins), a return, a non-JSON line.
    order = {
        "order_id": "O1",
        "account_id": "A1",
        "email": "jan.devries@example.nl",
        "ordered_at": "2019-10-26T08:00:00Z",
        "updated_at": "2019-10-26T08:00:00Z",
        "status": "placed",
        "promised_delivery_date": "2019-10-28",
        "shipping_postcode": "1234AB",
        "items": [{"sku": "SKU1", "qty": 1, "unit_price_eur": 19.99}],
        "returns": [],
    }
    shipped = order | {"updated_at": "2019-10-27T09:00:00+01:00", "status": "shipped"}
    delivered = order | {
        "updated_at": "2019-10-28T16:00:00Z",
        "status": "delivered",
        "delivered_at": "2019-10-28T15:00:00Z",
        "returns": [{"sku": "SKU1", "qty": 1, "reason": "te klein", "returned_at": "2019-10-28T18:00:00Z"}],
    }
    _write(root / "webshop_orders" / f"webshop_orders_{d1}.jsonl", _jsonl([order]) + "{not json\n")
    _write(root / "webshop_orders" / f"webshop_orders_{d2}.jsonl", _jsonl([shipped]))
    _write(
        root / "webshop_orders" / f"webshop_orders_{d3}.jsonl",
        _jsonl([delivered, order | {"status": "lost"}]),
    )
    # Web events: gzip; the same event re-sent the next day; a cookie that logs in; a truncated file.
    events = [
        {"event_id": "E1", "anonymous_id": "ck1", "event_type": "page_view", "ts": "2019-10-26T07:50:00Z"},
        {
            "event_id": "E2",
            "anonymous_id": "ck1",
            "event_type": "login",
            "account_id": "A1",
            "ts": "2019-10-26T07:55:00Z",
        },
        {"event_id": "E3", "anonymous_id": "ck2", "event_type": "teleport", "ts": "2019-10-26T09:00:00Z"},
    ]
    for day, rows in ((d1, events), (d2, [events[1]])):
        path = root / "web_events" / f"web_events_{day}.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(_jsonl(rows).encode(), mtime=0))
    whole = gzip.compress(_jsonl(events * 50).encode(), mtime=0)
    (root / "web_events" / f"web_events_{d3}.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    # Contact center: Windows-1252 with an accented agent; a UTF-8 file on the last day (wrong encoding).
    cc = (
        CC_HEADER + "\nK1;Z1;telefoon;06-12345678;;C1;2019-10-27 02:15:00;2019-10-27 02:40:00;30;1500;"
        "bezorging;opgelost;zoë.çelik;0\nK2;Z2;chat;;marie@example.nl;;2019-10-27 10:00:00;"
        "2019-10-27 10:10:00;5;600;retour;onvoldoende;agent2;1\n"  # unknown outcome
    )
    _write(root / "contact_center" / f"contact_center_{d2}.csv", cc, encoding="cp1252")
    _write(
        root / "contact_center" / f"contact_center_{d3}.csv",
        CC_HEADER + "\nK3;Z3;email;;rené@example.nl;;2019-10-28 09:00:00;2019-10-28 09:05:00;0;300;"
        "klacht;onopgelost;rené.müller;0\n",
        encoding="utf-8",
    )
    _write(
        root / "email_events" / f"email_events_{d1}.csv",
        EMAIL_HEADER + "\nM1,CP1,Herfst,promo,jan.devries@example.nl,sent,2019-10-26T06:00:00Z,\n"
        "M2,CP1,Herfst,promo,jan.devries@example.nl,open,2019-10-26T07:00:00Z,\n"
        "M3,CP1,Herfst,promo,jan.devries@example.nl,click,2019-10-26 07:01:00,https://x.nl\n",  # no offset
    )
    _write(root / "email_events" / f"email_events_{d3}.csv", "")  # zero bytes, no header
    _write(
        root / "social_messages" / f"social_messages_{d2}.jsonl",
        _jsonl(
            [
                {
                    "message_id": "S1",
                    "conversation_id": "CV1",
                    "platform": "x",
                    "author_handle": "@Jan_dV",
                    "direction": "inbound",
                    "sent_at": "2019-10-27T10:00:00Z",
                    "text": "Waar is mijn pakket?",
                    "sentiment": -0.6,
                    "linked_email": "jan.devries@example.nl",
                },
                {
                    "message_id": "S2",
                    "conversation_id": "CV1",
                    "platform": "x",
                    "author_handle": "@cxretail_nl",
                    "direction": "outbound",
                    "sent_at": "2019-10-27T10:45:00Z",
                    "text": "We kijken het na.",
                    "sentiment": None,
                },
            ]
        ),
    )
    _write(
        root / "survey_responses" / f"survey_responses_{d2}.csv",
        SURVEY_HEADER + "\nR1,post_contact,K1,jan.devries@example.nl,C1,2019-10-27T12:00:00Z,9,5,6,5,4,5,"
        '"Snel, en ""vriendelijk"""\n'
        "R2,relationship_nps,,marie@example.nl,,2019-10-27T13:00:00Z,3,2,,2,1,2,\n"
        "R3,post_delivery,O1,jan.devries@example.nl,C1,2019-10-27T14:00:00Z,11,5,7,5,5,5,\n",  # NPS 11
    )
    _write(
        root / "survey_responses" / f"survey_responses_{d3}.csv",
        "response_id,survey_type,touchpoint_ref,respondent_email,crm_id,responded_at,nps,csat,ces,"
        "effectiveness,ease,comment\nR4,post_contact,K3,rené@example.nl,,2019-10-28T12:00:00Z,2,1,1,1,1,\n",
    )  # the emotion column is missing: the file is rejected whole
    _write(
        root / "privacy_requests" / f"privacy_requests_{d3}.csv",
        PRIVACY_HEADER + "\nP1,C3,,profiling_opt_out,2019-10-28T08:00:00Z\n",
    )
    for day in DAYS:
        _write(
            root / "products" / f"products_{day}.csv",
            PRODUCTS_HEADER + "\nSKU1,Regenjas,kleding,jassen,Merk,19.99,true\n"
            "SKU2,Sokken,kleding,sokken,Merk,4.50,true\n",
        )
        _write(
            root / "stores" / f"stores_{day}.csv",
            STORES_HEADER + "\nS1,Utrecht Centrum,Utrecht,Utrecht,2001-05-01\n",
        )
    _write(root / "stores" / "README.txt", "not an extract: must be reported, not loaded\n")
