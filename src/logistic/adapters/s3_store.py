"""Reports in an S3 bucket: AWS S3, MinIO, Ceph or any S3-compatible store."""

from __future__ import annotations

import builtins
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from logistic.domain.errors import ObjectStoreError, ObjectStoreUnreachable, ReportNotFound
from logistic.ports.object_store import check_key, check_metadata, check_prefix, key_problem

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_NO_BUCKET = frozenset({"NoSuchBucket"})
_DENIED = frozenset({"403", "AccessDenied", "Forbidden"})
_WRITE_CHECK = ".write-check"
# Each attempt's waits: a hung store costs a call at most about
# max_attempts * (CONNECT + READ) seconds, well within nginx's 15 s.
CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 3
MAX_ATTEMPTS = 2
# How often `check` writes its probe object; between writes it only reads (HEAD).
WRITE_CHECK_INTERVAL_S = 300.0


def s3_client(
    endpoint_url: str | None, region: str | None, max_attempts: int = MAX_ATTEMPTS
) -> S3Client:
    """A client using the standard AWS credential chain (environment, profile, instance role).

    With an endpoint URL (MinIO, Ceph, a test server) buckets are addressed by
    path, which every S3-compatible store understands. A call is tried up to
    `max_attempts` times, with backoff, before its error is raised; each attempt
    waits at most CONNECT_TIMEOUT_S to connect and READ_TIMEOUT_S for each read.
    """
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        # botocore's own `max_attempts` counts the retries only, not the first attempt.
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        # Checksums only where S3 requires them: several S3-compatible stores
        # refuse the trailing checksums that botocore otherwise sends.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=config
    )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3ObjectStore:
    """Objects under `prefix` in `bucket`; keys are stored as `prefix + key`."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str = "",
        write_check_interval_s: float = WRITE_CHECK_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._bucket = bucket
        stripped = prefix.strip("/")
        self._prefix = f"{stripped}/" if stripped else ""
        self._write_check_interval_s = write_check_interval_s
        self._monotonic = monotonic
        self._write_lock = threading.Lock()
        # When the probe was last written, and the error it met (None: written).
        self._last_write: tuple[float, str | None] | None = None

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        check_key(key)
        check_metadata(metadata)
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=self._prefix + key,
                Body=body,
                ContentType=content_type,
                Metadata=dict(metadata),
            )
        except (ClientError, BotoCoreError) as error:
            raise self._failure("write", key, error) from error

    def get(self, key: str) -> bytes:
        check_key(key)
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._prefix + key)
            return response["Body"].read()
        except ClientError as error:
            if _code(error) in _MISSING:
                raise ReportNotFound(key) from error
            raise self._failure("read", key, error) from error
        except BotoCoreError as error:
            raise self._failure("read", key, error) from error

    def metadata(self, key: str) -> dict[str, str]:
        check_key(key)
        try:
            response = self._client.head_object(Bucket=self._bucket, Key=self._prefix + key)
        except ClientError as error:
            if _code(error) in _MISSING:
                raise ReportNotFound(key) from error
            raise self._failure("look up", key, error) from error
        except BotoCoreError as error:
            raise self._failure("look up", key, error) from error
        return dict(response.get("Metadata", {}))

    def exists(self, key: str) -> bool:
        try:
            self.metadata(key)
        except ReportNotFound:
            return False
        return True

    def check(self) -> None:
        where = f"S3 bucket {self._bucket!r} at {self._client.meta.endpoint_url}"
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except ClientError as error:
            code = _code(error)
            if code in _MISSING | _NO_BUCKET:
                raise ObjectStoreError(f"{where} does not exist") from error
            if code in _DENIED:
                raise ObjectStoreError(
                    f"{where} refused access: check the credentials and the bucket policy"
                ) from error
            raise ObjectStoreError(f"{where} cannot be used: {error}") from error
        except BotoCoreError as error:
            raise ObjectStoreUnreachable(f"{where} cannot be reached: {error}") from error
        failure = self._write_check(where)
        if failure is not None:
            raise ObjectStoreError(failure)

    def _write_check(self, where: str) -> str | None:
        """The probe write's outcome, written again only once the interval has passed.

        A readiness probe called every second then costs the bucket one version of
        the probe object per interval and process, not one per call.
        """
        with self._write_lock:
            now = self._monotonic()
            if self._last_write is not None:
                written_at, failure = self._last_write
                if now - written_at < self._write_check_interval_s:
                    return failure
            failure = None
            try:
                # A fixed probe name, outside the key space, overwritten on each write.
                self._client.put_object(
                    Bucket=self._bucket, Key=self._prefix + _WRITE_CHECK, Body=b"ok"
                )
            except (ClientError, BotoCoreError) as error:
                failure = f"{where} is not writable: {error}"
            self._last_write = (now, failure)
            return failure

    def list(self, prefix: str = "") -> builtins.list[str]:
        check_prefix(prefix)
        keys = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=self._prefix + prefix
            )
            for page in pages:
                for listed in page.get("Contents", []):
                    key = listed.get("Key", "")[len(self._prefix) :]
                    if key_problem(key) is None:
                        keys.append(key)
        except (ClientError, BotoCoreError) as error:
            raise self._failure("list", prefix, error) from error
        return sorted(keys)

    def _failure(self, action: str, key: str, error: Exception) -> ObjectStoreError:
        location = f"s3://{self._bucket}/{self._prefix}{key}"
        if isinstance(error, ClientError) and _code(error) in _NO_BUCKET:
            return ObjectStoreError(f"could not {action} {location}: the bucket does not exist")
        return ObjectStoreError(f"could not {action} {location}: {error}")
