"""The loader's email check: plain ASCII addresses skip email-validator, with the same outcome."""

from __future__ import annotations

import pyarrow as pa
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from segmint.store.load.validate import EMAIL, EMAIL_ERROR, PLAIN_EMAIL, check_emails, plain_emails


def _fits(text: str) -> bool:
    return len(text) <= 254 and len(text.split("@")[0]) <= 64 and text.rsplit(".", 1)[-1].lower() not in {
        "arpa", "invalid", "local", "localhost", "onion", "test"
    }  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.from_regex(PLAIN_EMAIL, fullmatch=True).filter(_fits))
def test_every_plain_address_is_one_email_validator_accepts_unchanged(text: str) -> None:
    assert plain_emails(pa.array([text])).to_pylist() == [True]
    checked = validate_email(text, check_deliverability=False)
    assert checked.normalized.lower() == text.lower()


@pytest.mark.parametrize(
    "text",
    [
        "anna..berg@example.fi",  # two dots in a row
        ".anna@example.fi",
        "anna@-example.fi",  # a label starting with a hyphen
        "anna@example-.fi",
        "anna@example.t3st",  # digits in the top-level domain
        "anna@localhost",  # no dot
        "anna@example.test",  # special-use
        "anna@example.LOCAL",
        "a" * 65 + "@example.fi",  # local part over 64
        "anna@" + "x" * 63 + "." + "y" * 63 + "." + "z" * 63 + "." + "w" * 60 + ".fi",  # over 254 in all
        "änna@example.fi",  # not ASCII: email-validator decides
        "anna berg@example.fi",
        "anna@example.fi.",
    ],
)
def test_anything_else_goes_to_email_validator(text: str) -> None:
    assert plain_emails(pa.array([text])).to_pylist() == [False]


def test_check_emails_same_outcome_both_ways() -> None:
    batch = pa.table(
        {"email": [" Anna.Berg@Example.FI ", None, "", "bad@@x.fi", "änna@exämple.fi", "x@y.test", "p@q.se"]}
    )
    out = check_emails(batch)
    assert out.column(EMAIL).to_pylist() == [
        "anna.berg@example.fi",
        None,
        None,
        None,
        "änna@exämple.fi",
        None,
        "p@q.se",
    ]
    errors = out.column(EMAIL_ERROR).to_pylist()
    assert errors[0] is None
    assert errors[1] is None
    assert errors[2] is None
    assert errors[6] is None
    assert errors[3].startswith("email: 'bad@@x.fi' is not a valid address")
    assert errors[5].startswith("email: 'x@y.test' is not a valid address")
    with pytest.raises(EmailNotValidError):
        validate_email("x@y.test", check_deliverability=False)


def test_check_emails_all_plain_batch() -> None:
    out = check_emails(pa.table({"email": ["A@B.fi", None, "c.d+news@e-f.se"]}))
    assert out.column(EMAIL).to_pylist() == ["a@b.fi", None, "c.d+news@e-f.se"]
    assert out.column(EMAIL_ERROR).to_pylist() == [None, None, None]
