"""Settings are read once and strictly: defaults < config.toml < environment (and _FILE secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.cli import cli
from worker.config import CONFIG_TEMPLATE, ENV_PREFIX, Settings, _leaves, load_settings
from worker.errors import ConfigError
from worker.instance import init_instance


def test_environment_overrides_the_file_and_secrets_come_from_files(tmp_path: Path) -> None:
    init_instance(tmp_path)
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    env = {
        f"{ENV_PREFIX}OUTGOING_TRANSPORT": "smtp",
        f"{ENV_PREFIX}OUTGOING_SMTP_PORT": "2525",
        f"{ENV_PREFIX}OUTGOING_SMTP_PASSWORD_FILE": str(secret),
        f"{ENV_PREFIX}IMPORTS_ARBOR_REPORT_SENDERS": "a@arbor.example, b@arbor.example",
    }
    settings = load_settings(tmp_path, environ=env)
    assert settings.outgoing.transport == "smtp"
    assert settings.outgoing.smtp.port == 2525
    assert settings.outgoing.smtp.password == "s3cret"
    assert settings.imports.arbor_report_senders == ["a@arbor.example", "b@arbor.example"]


@pytest.mark.parametrize(("env", "message"), [
    ({f"{ENV_PREFIX}OUTGOING_SMTP_HOTS": "x"}, "unknown setting in the environment"),
    ({f"{ENV_PREFIX}SCHEDULE_TICK_SECONDS": "abc"}, "whole number"),
    ({f"{ENV_PREFIX}OUTGOING_SMTP_PASSWORD_FILE": "/nonexistent/secret"}, "cannot read"),
    ({f"{ENV_PREFIX}OUTGOING_TRANSPORT": "pigeon"}, "directory or smtp"),
    ({f"{ENV_PREFIX}SCHEDULE_DIGEST_TIME": "7.30"}, "HH:MM"),
])
def test_a_bad_setting_is_an_error_that_names_it(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, environ=env)


def test_an_unknown_key_in_config_toml_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[outgoing]\ntransprot = "smtp"\n')
    with pytest.raises(ConfigError, match="unknown setting 'transprot'"):
        load_settings(tmp_path, environ={})


def test_every_setting_is_documented_in_the_generated_config() -> None:
    for path, _holder, name in _leaves(Settings()):
        section = "[" + ".".join(path[:-1]) + "]"
        assert section in CONFIG_TEMPLATE, section
        assert f"{name} =" in CONFIG_TEMPLATE, ".".join(path)


def test_a_bad_time_on_the_command_line_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "run", "--once", "--at", "26/11/2026 07:30"])
    assert result.exit_code == 2
    assert "is not a time like '2026-11-26 07:30'" in result.output
    assert "Traceback" not in result.output
