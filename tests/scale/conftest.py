"""The scale-out topology for the tests: one cluster for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cluster import AUTH_TOKEN, REST_TOKEN, Cluster, running_cluster

__all__ = ["AUTH_TOKEN", "REST_TOKEN", "cluster"]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started
