import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_cli_help_lists_subcommands():
    out = subprocess.run([sys.executable, "-m", "fer", "--help"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "models" in out.stdout


def test_ci_runs_the_readme_commands():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    for cmd in ("bash scripts/install.sh", "python -m pytest -q"):
        assert cmd in readme, cmd
        assert re.search(rf"^{re.escape(cmd)}$", ci, re.M), cmd


def test_unknown_subcommand_argument_is_an_error():
    out = subprocess.run([sys.executable, "-m", "fer", "models", "--bogus"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode != 0
