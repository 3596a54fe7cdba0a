"""The `kiosk` command: campaigns, start-up, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def kiosk(tmp_path, kiosk_command):
    return kiosk_command(tmp_path / "instance")


def test_any_command_on_an_empty_instance_creates_the_database(kiosk, tmp_path):
    result = kiosk("campaign", "show")
    assert result.exit_code == 1
    assert "no campaign is open" in result.output
    assert (tmp_path / "instance" / "kiosk.sqlite3").exists()
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


def test_open_then_show_a_campaign(kiosk):
    result = kiosk(
        "campaign", "open", "--name", "Don de sang", "--site", "Khénifra", "--date", "2026-06-14"
    )
    assert result.exit_code == 0, result.output
    assert "KHE-2026-06-14" in result.output
    shown = kiosk("campaign", "show")
    assert shown.exit_code == 0
    assert "Don de sang — Khénifra, 2026-06-14 (open; rules morocco; bag numbers any)" in (
        shown.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("campaign", "open", "--name", "X"), "Missing option '--site'"),
        (("campaign", "open", "--name", "X", "--site", "Y", "--date", "2026-02-30"), "--date"),
        (("campaign", "open", "--name", " ", "--site", "Y"), "needs a name and a site"),
        (("campaign", "nope"), "No such command"),
        (("bogus",), "No such command"),
        (("run", "--port", "99999"), "--port"),
    ],
)
def test_bad_arguments_give_one_line_and_a_non_zero_exit(kiosk, args, message):
    result = kiosk(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def kiosk_process(instance, **environment) -> subprocess.CompletedProcess:
    """`kiosk campaign show` as its own process, as a coordinator types it."""
    env = {**os.environ, "KIOSK_INSTANCE": str(instance), **environment}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "campaign", "show"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_a_broken_config_file_is_one_line_too(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.toml").write_text("port = [unclosed\n")
    result = kiosk_process(instance)
    assert result.returncode != 0
    assert "config.toml" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_environment_value_is_named(tmp_path):
    result = kiosk_process(tmp_path / "i", PORT="fivethousand")
    assert result.returncode == 1
    assert "PORT must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_campaign_opens_with_its_rules_and_bag_numbers(kiosk):
    result = kiosk(
        "campaign",
        "open",
        "--name",
        "D",
        "--site",
        "Azrou",
        "--rules",
        "who2012",
        "--bag-numbers",
        "ISBT128",
    )
    assert result.exit_code == 0, result.output
    assert "rules who2012; bag numbers isbt128" in result.output


@pytest.mark.parametrize(
    ("option", "message"),
    [(("--rules", "mars"), "--rules"), (("--bag-numbers", "regex:("), "not a valid regular")],
)
def test_bad_medical_options_are_one_line(kiosk, option, message):
    result = kiosk("campaign", "open", "--name", "D", "--site", "Azrou", *option)
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_importing_donors_reports_bad_rows_and_is_idempotent(kiosk, tmp_path):
    csv = tmp_path / "donneurs.csv"
    csv.write_text(
        "cin;last_name;first_name;sex;birth_date;blood_group\n"
        "AB123456;Zahra;Fatima;F;1990-05-17;O+\n"
        "XX;Amrani;Youssef;Q;1975-02-30;\n",
        encoding="utf-8-sig",
    )
    first = kiosk("import", "donors", str(csv))
    assert first.exit_code == 0, first.output
    assert f"{csv}:3:" in first.output
    assert "1 added, 0 updated, 0 unchanged, 1 problems" in first.output
    again = kiosk("import", "donors", str(csv))
    assert "0 added, 0 updated, 1 unchanged" in again.output


def test_importing_a_missing_file_is_one_line(kiosk, tmp_path):
    result = kiosk("import", "donors", str(tmp_path / "nowhere.csv"))
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_closing_the_campaign_day(kiosk):
    kiosk("campaign", "open", "--name", "D", "--site", "Azrou")
    closed = kiosk("campaign", "close", "--yes")
    assert closed.exit_code == 0, closed.output
    assert "0 visits marked left" in closed.output
    assert "no campaign is open" in kiosk("campaign", "close", "--yes").output
