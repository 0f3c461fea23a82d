"""Fixtures of the SDK suite. The service under test and its credentials come from the
environment (set by the Rust runner `tests/api/sdk_suite.rs`, which starts the service on a fresh
database): SMS_ENDPOINT, SMS_AK, SMS_SK, SMS_DOMAIN_ID (domain A), SMS_OTHER_AK, SMS_OTHER_SK,
SMS_OTHER_DOMAIN_ID (domain B) and SMS_FIXTURES_DIR (`tests/fixtures`, the example bodies of
the API pages)."""

import os

import pytest

import sdk_helpers
from sdk_helpers import CREDENTIAL_KINDS, client_of, create_example_task


def pytest_configure(config):
    missing = [name for name in sdk_helpers.ENV_VARS if not os.environ.get(name)]
    if missing:
        raise pytest.UsageError(
            "the SDK suite needs the service's endpoint and credentials in the environment; missing: "
            + ", ".join(missing)
            + " (run it through `cargo test --test api sdk_suite`)"
        )


@pytest.fixture(params=CREDENTIAL_KINDS)
def kind(request):
    """The credential kind: "global" (GlobalCredentials, X-Domain-Id, ClientBuilder with both
    types allowed) or "basic" (BasicCredentials, X-Project-Id, SmsClient.new_builder())."""
    return request.param


@pytest.fixture
def client(kind):
    """A client of domain A, built the `kind` way."""
    return client_of(kind)


@pytest.fixture(scope="session")
def client_a():
    """Domain A through GlobalCredentials, for setting things up."""
    return client_of("global")


@pytest.fixture(scope="session")
def other_client():
    """Domain B: another tenant."""
    return client_of("global", os.environ["SMS_OTHER_AK"], os.environ["SMS_OTHER_SK"], os.environ["SMS_OTHER_DOMAIN_ID"])


@pytest.fixture
def new_task(client_a):
    """A fresh example task of domain A: (task id, create body as JSON)."""
    task_id, body, _, _ = create_example_task(client_a)
    return task_id, body
