"""Options recorded without their secrets."""

from __future__ import annotations

from d4py_monitor.redact import REDACTED, redact, redact_url


def test_secret_looking_keys_are_redacted_and_others_kept():
    options = {"password": "hunter2", "api_key": "k", "AUTH_TOKEN": "t", "client_secret": "s", "workers": 4}
    assert redact(options) == {
        "password": REDACTED,
        "api_key": REDACTED,
        "AUTH_TOKEN": REDACTED,
        "client_secret": REDACTED,
        "workers": 4,
    }


def test_user_and_password_in_urls_are_removed():
    options = {"master": "spark://alice:pw@host:7077", "store": "mongodb://u:p@db/runs?x=1", "plain": "redis://h:1/0"}
    assert redact(options) == {
        "master": "spark://***@host:7077",
        "store": "mongodb://***@db/runs?x=1",
        "plain": "redis://h:1/0",
    }


def test_unset_secrets_stay_unset_and_nested_values_are_redacted():
    assert redact({"token": None, "hosts": ["ftp://a:b@x", "y"], "extra": {"secret": 1}}) == {
        "token": None,
        "hosts": ["ftp://***@x", "y"],
        "extra": {"secret": REDACTED},
    }


def test_urls_not_quite_right_and_secret_parameters_are_hidden():
    assert redact_url("mongodb//u:pw13@db/x") == "***@db/x"  # a typo in the scheme hides no less
    assert redact_url("mongodb:/u:pw14@db/x") == "***@db/x"
    hidden = redact_url("mongodb://db:27017/x?tlsCertificateKeyFilePassword=pw3&w=1")
    assert hidden == "mongodb://db:27017/x?tlsCertificateKeyFilePassword=***&w=1"
    assert redact_url("sqlite:///data/runs.sqlite") == "sqlite:///data/runs.sqlite"
