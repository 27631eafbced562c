"""The CI examples in packaging/ci and the pre-commit hook, run as far as they can run here.

Each example's own shell commands run as its CI would run them (bash with the runner's
options), with `modelgate` from this environment on PATH, in a git repository of real demo
bundles. What needs the CI service itself (installing from the package index, the upload
actions) is checked against what the commands produced.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml

#: Slow: each example runs its commands in child processes on a copy of the demo bundles.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
CI = ROOT / "packaging" / "ci"
#: The environment's scripts folder, which holds `modelgate` (and `pre-commit`).
SCRIPTS = Path(sys.executable).parent
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"
#: Demo bundles and where the repository keeps them; a space in a folder name tests the quoting.
PASSING = {"credit-risk-1.1.0": "models/credit-risk", "defect-detector-1.0.0": "models/vision/defect detector"}
FAILING = {"support-embedder-2.1.0": "models/support-embedder"}   # licensed CC-BY-NC-4.0: MG402
INSTALL = re.compile(r'^python -m pip install "modelgate==[0-9.*]+"$')


def git(repo: Path, *argv: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=CI example", "-c", "user.email=ci@example.invalid",
                           "-c", "init.defaultBranch=main", *argv],
                          cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def make_repository(path: Path, demo: Path, bundles: dict[str, str]) -> Path:
    """A git repository with ``bundles`` (demo name: folder), the demo policy and a README, committed."""
    path.mkdir()
    for name, folder in bundles.items():
        shutil.copytree(demo / "bundles" / name, path / folder)
    shutil.copy(demo / "policy.yaml", path / "policy.yaml")
    (path / "README.md").write_text("Models of Example Corp.\n", encoding="utf-8")
    git(path, "init", "--quiet")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "--message", "models")
    return path


def environment(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MODELGATE_")}
    env.update(PATH=f"{SCRIPTS}{os.pathsep}{env.get('PATH', '')}", NO_COLOR="1", **extra)
    return env


def run_bash(script: str, *, repo: Path, options: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "--noprofile", "--norc", *options, "-c", script], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def sarif_validator():
    if not SARIF_SCHEMA.is_file():
        pytest.fail(f"the official SARIF 2.1.0 schema is missing: expected it at {SARIF_SCHEMA}", pytrace=False)
    from jsonschema import Draft4Validator

    return Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


def check_reports(repo: Path, *, folders: dict[str, str], failing: set[str], sarif_validator) -> None:
    """One valid SARIF and one JUnit file per bundle folder, in their own code-scanning category,
    with errors exactly for the ``failing`` folders."""
    sarif = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in (repo / "reports").glob("*.sarif")}
    junit = {path.name: ElementTree.parse(path).getroot() for path in (repo / "reports").glob("*.xml")}
    names = {re.sub(r"[^A-Za-z0-9._-]", "_", folder) for folder in folders.values()}
    assert set(sarif) == {f"{name}.sarif" for name in names} and set(junit) == {f"{name}.xml" for name in names}
    categories = set()
    for folder in folders.values():
        name = re.sub(r"[^A-Za-z0-9._-]", "_", folder)
        log = sarif[f"{name}.sarif"]
        assert not list(sarif_validator.iter_errors(log))
        run = log["runs"][0]
        categories.add(run["automationDetails"]["id"])
        errors = [result for result in run["results"] if result["level"] == "error"]
        suite = junit[f"{name}.xml"]
        failures = sum(int(element.get("failures", 0)) for element in suite.iter() if element.get("failures"))
        if folder in failing:
            assert errors and failures
            uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in errors for loc in r["locations"]}
            assert all(uri.startswith(folder + "/") for uri in uris), uris   # paths in the repository
        else:
            assert not errors and not failures
    assert categories == {f"modelgate/{folder}/" for folder in folders.values()}


# --------------------------------------------------------------------------- GitHub Actions
def github_job() -> dict:
    return yaml.safe_load((CI / "github-actions.yml").read_text(encoding="utf-8"))["jobs"]["validate-bundles"]


def run_github_validation(repo: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str]:
    """The workflow's validation step, as the runner runs a `shell: bash` step; also the job summary."""
    job = github_job()
    assert job["defaults"]["run"]["shell"] == "bash"
    steps = {step["name"]: step for step in job["steps"] if "run" in step}
    assert set(steps) == {"Install ModelGate", "Validate every bundle"}
    assert INSTALL.match(steps["Install ModelGate"]["run"])     # the package index is not reachable here
    summary = tmp_path / f"summary-{len(list(tmp_path.glob('summary-*')))}.md"
    done = run_bash(steps["Validate every bundle"]["run"], repo=repo, options=["-eo", "pipefail"],
                    env=environment(**job["env"], GITHUB_STEP_SUMMARY=str(summary)))
    return done, summary.read_text(encoding="utf-8")


def test_github_workflow_passes_clean_bundles_and_reports_each(tmp_path, demo_workspace, sarif_validator):
    repo = make_repository(tmp_path / "repo", demo_workspace, PASSING)
    done, summary = run_github_validation(repo, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary.count("PASSED") == 2 and "ModelGate validated 2 bundle(s)." in summary
    check_reports(repo, folders=PASSING, failing=set(), sarif_validator=sarif_validator)


def test_github_workflow_fails_on_an_error_and_still_reports_every_bundle(tmp_path, demo_workspace,
                                                                         sarif_validator):
    repo = make_repository(tmp_path / "repo", demo_workspace, {**PASSING, **FAILING})
    done, summary = run_github_validation(repo, tmp_path)
    assert done.returncode == 1
    assert summary.count("PASSED") == 2 and summary.count("FAILED") == 1 and "MG402" in summary
    check_reports(repo, folders={**PASSING, **FAILING}, failing=set(FAILING.values()),
                  sarif_validator=sarif_validator)


def test_github_workflow_fails_on_a_bundle_that_cannot_be_used(tmp_path, demo_workspace):
    repo = make_repository(tmp_path / "repo", demo_workspace, PASSING)
    (repo / "policy.yaml").write_text("policy_format: modelgate.policy/v1\nsurprise: true\n", encoding="utf-8")
    done, _ = run_github_validation(repo, tmp_path)
    assert done.returncode == 1 and done.stderr.count("modelgate: ") == 2 and "Traceback" not in done.stderr


def test_github_upload_steps_pick_up_what_the_validation_wrote(tmp_path, demo_workspace):
    repo = make_repository(tmp_path / "repo", demo_workspace, {**PASSING, **FAILING})
    run_github_validation(repo, tmp_path)
    uses = {step["uses"].split("@")[0]: step for step in github_job()["steps"] if "uses" in step}
    written = [str(path.relative_to(repo)) for path in (repo / "reports").iterdir()]
    sarif, junit = uses["github/codeql-action/upload-sarif"], uses["mikepenz/action-junit-report"]
    assert sarif["with"]["sarif_file"] == "reports" and "hashFiles('reports/*.sarif')" in sarif["if"]
    assert len(fnmatch.filter(written, junit["with"]["report_paths"])) == 3
    assert len(fnmatch.filter(written, "reports/*.sarif")) == 3
    # The reports are uploaded when the validation step failed the job, too.
    uploads = ("github/codeql-action/upload-sarif", "mikepenz/action-junit-report", "actions/upload-artifact")
    assert all("!cancelled()" in uses[action]["if"] for action in uploads)
    assert uses["actions/upload-artifact"]["with"]["path"] == "reports/"
    assert github_job()["permissions"]["security-events"] == "write"


# --------------------------------------------------------------------------- GitLab CI
def run_gitlab_job(repo: Path) -> subprocess.CompletedProcess:
    """The job's script, as GitLab Runner runs it in bash (`set -eo pipefail`, one shell session)."""
    job = yaml.safe_load((CI / "gitlab-ci.yml").read_text(encoding="utf-8"))["modelgate"]
    assert [INSTALL.match(line) is not None for line in job["before_script"]] == [True]
    variables = {name: value.replace("$CI_PROJECT_DIR", str(repo)) for name, value in job["variables"].items()}
    return run_bash("\n".join(job["script"]), repo=repo, options=["-eo", "pipefail"],
                    env=environment(**variables, CI_PROJECT_DIR=str(repo)))


def test_gitlab_job_reports_junit_and_sarif_and_fails_on_an_error(tmp_path, demo_workspace, sarif_validator):
    job = yaml.safe_load((CI / "gitlab-ci.yml").read_text(encoding="utf-8"))["modelgate"]
    repo = make_repository(tmp_path / "clean", demo_workspace, PASSING)
    done = run_gitlab_job(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED: ") == 2 and "ModelGate validated 2 bundle(s)." in done.stdout

    repo = make_repository(tmp_path / "failing", demo_workspace, {**PASSING, **FAILING})
    done = run_gitlab_job(repo)
    assert done.returncode == 1 and "MG402" in done.stdout
    check_reports(repo, folders={**PASSING, **FAILING}, failing=set(FAILING.values()),
                  sarif_validator=sarif_validator)
    written = [str(path.relative_to(repo)) for path in (repo / "reports").iterdir()]
    assert len(fnmatch.filter(written, job["artifacts"]["reports"]["junit"])) == 3
    assert len(fnmatch.filter(written, "reports/*.md")) == 3
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["paths"] == ["reports/"]


# --------------------------------------------------------------------------- pre-commit
def test_the_example_config_runs_the_published_hook(tmp_path):
    published = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    example = yaml.safe_load((CI / "pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"][0]["hooks"][0]
    assert [hook["id"] for hook in published] == ["modelgate-validate"]
    keys = ("id", "name", "entry", "pass_filenames", "require_serial")
    assert {key: example[key] for key in keys} == {key: published[0][key] for key in keys}
    # pre-commit installs the published hook with pip (language python); the example runs the
    # installed command (language system), which is what the test below can run offline.
    assert (published[0]["language"], example["language"]) == ("python", "system")
    assert "files" not in published[0] and "types" not in published[0]    # every staged file is a candidate


def pre_commit(repo: Path, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPTS / "pre-commit"), "run", "--color", "never"], cwd=repo,
                          env=environment(PRE_COMMIT_HOME=str(home)), capture_output=True, text=True, timeout=600)


def test_pre_commit_validates_the_bundles_of_staged_files(tmp_path, demo_workspace):
    repo = make_repository(tmp_path / "repo", demo_workspace, {**PASSING, **FAILING})
    shutil.copy(CI / "pre-commit-config.yaml", repo / ".pre-commit-config.yaml")
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "--quiet", "--message", "hooks")
    home = tmp_path / "pre-commit-home"

    # A file outside every bundle: nothing to validate.
    (repo / "README.md").write_text("Models of Example Corp, reviewed.\n", encoding="utf-8")
    git(repo, "add", "README.md")
    done = pre_commit(repo, home)
    assert done.returncode == 0 and "nothing to validate" not in done.stdout     # quiet when it passes
    git(repo, "commit", "--quiet", "--message", "readme")

    # A model card edited without `modelgate lock`: its bundle fails, the others are not touched.
    card = repo / PASSING["credit-risk-1.1.0"] / "MODEL_CARD.md"
    card.write_text(card.read_text(encoding="utf-8") + "\nReviewed again in November.\n", encoding="utf-8")
    git(repo, "add", str(card.relative_to(repo)))
    done = pre_commit(repo, home)
    assert done.returncode == 1
    assert "FAILED: credit-risk@1.1.0" in done.stdout and "MG10" in done.stdout
    assert "1 bundle(s) validated: 0 passed, 1 failed" in done.stdout

    # Locked again, it passes. Three staged files of one bundle validate it once.
    subprocess.run([str(SCRIPTS / "modelgate"), "lock", PASSING["credit-risk-1.1.0"]], cwd=repo, check=True,
                   capture_output=True, env=environment())
    git(repo, "add", "--all")
    done = pre_commit(repo, home)
    assert done.returncode == 0, done.stdout
    git(repo, "commit", "--quiet", "--message", "card")
    failing = repo / FAILING["support-embedder-2.1.0"]
    for name in ("MODEL_CARD.md", "LICENSE"):
        (failing / name).write_text((failing / name).read_text(encoding="utf-8") + "\n", encoding="utf-8")
    subprocess.run([str(SCRIPTS / "modelgate"), "lock", str(failing.relative_to(repo))], cwd=repo, check=True,
                   capture_output=True, env=environment())
    git(repo, "add", "--all")
    done = pre_commit(repo, home)
    assert done.returncode == 1
    assert done.stdout.count("FAILED: support-embedder@2.1.0") == 1 and "MG402" in done.stdout
    assert "1 bundle(s) validated: 0 passed, 1 failed" in done.stdout
