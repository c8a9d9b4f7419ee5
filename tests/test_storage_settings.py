"""Uploaded files go through Django's storage API: the filesystem by default, S3-compatible by setting."""

from __future__ import annotations

import importlib
import os

from django.core.files.storage import FileSystemStorage, storages


def test_filesystem_is_the_default():
    assert isinstance(storages["default"], FileSystemStorage)


def test_a_bucket_in_the_environment_selects_s3(monkeypatch):
    monkeypatch.setenv("TAAMIR_S3_BUCKET", "taamir-docs")
    monkeypatch.setenv("TAAMIR_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    import config.settings.base as base

    try:
        reloaded = importlib.reload(base)
        backend = reloaded.STORAGES["default"]
        assert backend["BACKEND"] == "storages.backends.s3.S3Storage"
        from storages.backends.s3 import S3Storage

        storage = S3Storage(**backend["OPTIONS"])  # builds its client lazily: no request is made here
        assert storage.bucket_name == "taamir-docs" and storage.endpoint_url == "http://127.0.0.1:9000"
        assert storage.default_acl == "private" and storage.file_overwrite is False
    finally:
        monkeypatch.delenv("TAAMIR_S3_BUCKET")
        importlib.reload(base)
    assert "TAAMIR_S3_BUCKET" not in os.environ
