"""The deployment files agree with the code: every setting in the template, with its default.

These read the files under deploy/ and settings.py; they start nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from logistic.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS_SOURCE = ROOT / "src" / "logistic" / "settings.py"
SETTING_LINE = re.compile(r"^(#?)(LOGISTIC_[A-Z0-9_]+)=(.*)$")


class RecordingEnviron(dict[str, str]):
    """An environment that remembers every variable asked of it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return super().__contains__(key)


def variables_read() -> set[str]:
    """What Settings.from_environ reads, on both profiles, plus every name settings.py spells."""
    read: set[str] = set()
    for values in ({}, {"LOGISTIC_DATABASE_URL": "mysql+pymysql://user:secret@db/logistic"}):
        environ = RecordingEnviron(values)
        Settings.from_environ(environ)
        read |= environ.asked
    spelled = set(re.findall(r"\"(LOGISTIC_[A-Z0-9_]+)\"", SETTINGS_SOURCE.read_text()))
    return {name for name in read | spelled if name.startswith("LOGISTIC_")}


def template() -> list[tuple[bool, str, str, str]]:
    """(active, name, value, the comment line above) for each setting of deploy/logistic.env."""
    lines = (DEPLOY / "logistic.env").read_text().splitlines()
    settings = []
    for number, line in enumerate(lines):
        match = SETTING_LINE.match(line)
        if match:
            above = lines[number - 1] if number else ""
            settings.append((match[1] == "", match[2], match[3], above))
    return settings


def active_template() -> dict[str, str]:
    return {name: value for on, name, value, _ in template() if on}


def test_the_environment_template_lists_every_setting_once() -> None:
    names = [name for _, name, _, _ in template()]

    assert sorted(names) == sorted(set(names))
    assert set(names) == variables_read()


def test_each_setting_has_a_comment_with_its_default() -> None:
    for _, name, _, above in template():
        assert above.startswith("# "), name
        assert "(default:" in above, name


def test_active_values_are_valid_and_commented_values_are_the_defaults() -> None:
    active = active_template()
    production = Settings.from_environ(active)

    assert production.database_url.startswith("mysql+pymysql://")
    assert production.fake_api is False
    assert [str(network) for network in production.trusted_proxies] == ["127.0.0.1/32"]
    for on, name, value, _ in template():
        if not on:
            assert Settings.from_environ({**active, name: value}) == production, name


def test_the_port_is_left_to_each_api_unit() -> None:
    # Each instance takes its port from its unit name on the command line, which wins
    # over the environment file; the template leaves LOGISTIC_PORT unset anyway.
    unit = (DEPLOY / "systemd" / "logistic-api@.service").read_text()
    active = {name for on, name, _, _ in template() if on}

    assert "ExecStart=/opt/logistic/.venv/bin/logistic serve --port %i" in unit
    assert "EnvironmentFile=/etc/logistic/logistic.env" in unit
    assert "LOGISTIC_PORT" not in active


def test_the_compose_file_matches_the_systemd_path() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    site = (DEPLOY / "nginx" / "logistic.conf").read_text()

    assert set(services) == {
        "mariadb",
        "redis",
        "minio",
        "bucket",
        "migrate",
        "api",
        "scheduler",
        "dispatcher",
        "nginx",
    }
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["api"]["command"] == ["logistic", "serve"]
    assert services["scheduler"]["command"] == ["logistic", "scheduler"]
    assert services["migrate"]["command"] == ["logistic", "migrate"]
    assert services["dispatcher"]["command"] == ["logistic", "dispatcher"]
    for name in ("migrate", "api", "scheduler", "dispatcher"):
        service = services[name]
        assert (DEPLOY / service["env_file"]).is_file()
        assert (ROOT / service["build"]["dockerfile"]).is_file()
        assert set(service["environment"]) - {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= (
            variables_read()
        )
    settings = Settings.from_environ({**active_template(), **services["api"]["environment"]})
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.s3_bucket is not None
    assert settings.fake_api is False
    for name in ("api", "scheduler", "dispatcher"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    # nginx runs the shipped site with its loopback upstreams rewritten by these sed lines.
    rewrite = services["nginx"]["command"][0]
    for upstream in ("server 127.0.0.1:3000 ", "server 127.0.0.1:3001 "):
        assert upstream in site
        assert upstream in rewrite
    assert "./nginx/logistic.conf:" in services["nginx"]["volumes"][0]


def test_the_image_runs_the_api_as_a_user_of_its_own() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()

    assert "\nFROM python:3.11-slim\n" in dockerfile
    assert "\nUSER logistic\n" in dockerfile
    assert 'CMD ["logistic", "serve"]' in dockerfile
    assert "LOGISTIC_HOST=0.0.0.0" in dockerfile
