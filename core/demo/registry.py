"""The demo workspace's registry: the demo bundles imported, reviewed and promoted.

It leaves each model in a state a reviewer meets every day: credit-risk with
1.1.0 in production, a deprecated 1.0.0 and 1.2.0 waiting for approval;
defect-detector rolled back from 1.0.0 to 0.9.0, and a release candidate that
was sent back; support-embedder with 2.0.0 in production and a rejected 2.1.0;
the safetensors, GGUF and TFLite versions at candidate, and the PyTorch checkpoint
that hides code rejected in draft.
Every step goes through the same workflow functions as the CLI, so every gate
is really evaluated and every event is in the audit chain.
"""

from __future__ import annotations

from pathlib import Path

from modelgate.core.policy.stages import CANDIDATE, PRODUCTION, STAGES
from modelgate.core.progress import Progress

ADMIN = "demo-admin"
#: Demo users and their roles: submitters own models, reviewers and approvers review.
USERS = {
    "ana": ["submitter"],        # credit-risk
    "farid": ["submitter"],      # defect-detector
    "gita": ["submitter"],       # support-embedder
    "ben": ["reviewer"],
    "chen": ["approver"],
    "dana": ["approver"],
    "eve": ["signer"],
}
#: The release officer, whose key the demo registry trusts; the key's passphrase is DEMO_PASSPHRASE.
SIGNER = "eve"
KEYS_DIR = "keys"
DEMO_PASSPHRASE = "modelgate-demo-passphrase"
OWNERS = {"credit-risk": "ana", "defect-detector": "farid", "support-embedder": "gita",
          "support-assistant": "gita", "keyword-spotter": "farid", "churn-predictor": "ana"}


def _climb(name: str, version: str, to: str, *, measured: bool = True) -> list[tuple]:
    """Reviews then the promotion that takes a version one stage further."""
    first = ("Card, license and metrics are in order for a candidate." if measured else
             "Card, license and file checks are in order for a candidate; benchmarks must come before staging.")
    reviews = {
        "candidate": [("ben", "approve", first)],
        "staging": [("chen", "approve", "Validated on the holdout; ready for staging.")],
        "production": [("chen", "approve", "Staging soak looked clean; approve for release."),
                       ("dana", "approve", "Second approval: dashboards and fallback checked.")],
    }[to]
    steps = [("review", who, name, version, decision, comment) for who, decision, comment in reviews]
    steps.append(("promote", "chen", name, version, to, f"promoted to {to} after review"))
    return steps


def _to_production(name: str, version: str) -> list[tuple]:
    climb = STAGES[STAGES.index(CANDIDATE):STAGES.index(PRODUCTION) + 1]
    steps = [s for stage in climb for s in _climb(name, version, stage)]
    # The release officer signs the reviewed bytes just before the production promotion,
    # and the decisions that took it there just after.
    return [*steps[:-1], ("sign", SIGNER, name, version), steps[-1], ("attest", SIGNER, name, version)]


_SCRIPT: list[tuple] = [
    *_climb("credit-risk", "1.0.0", "candidate"),
    ("promote", "chen", "credit-risk", "1.0.0", "deprecated", "replaced by 1.1.0 before release"),
    *_to_production("credit-risk", "1.1.0"),
    *_climb("credit-risk", "1.2.0", "candidate"),
    *_to_production("defect-detector", "0.9.0"),
    *_to_production("defect-detector", "1.0.0"),
    ("rollback", "dana", "defect-detector", "the int8 variant misreads scratches from the line 3 cameras"),
    # A rollback is a decision on both versions; the release officer signs those too.
    ("attest", SIGNER, "defect-detector", "0.9.0"),
    ("attest", SIGNER, "defect-detector", "1.0.0"),
    ("review", "ben", "defect-detector", "1.1.0-rc.1", "request-changes",
     "The manifest declares five classes but the graph still outputs four; re-export the model."),
    *_to_production("support-embedder", "2.0.0"),
    ("review", "ben", "support-embedder", "2.1.0", "reject",
     "Trained on a CC-BY-NC-4.0 corpus: we cannot ship it commercially."),
    ("review", "chen", "support-embedder", "2.1.0", "reject",
     "Agree with Ben; retrain without the forum data."),
    *_climb("support-assistant", "1.0.0", "candidate", measured=False),
    *_climb("support-assistant", "1.1.0", "candidate", measured=False),
    *_climb("keyword-spotter", "1.0.0", "candidate", measured=False),
    # Nobody promotes the contractor's checkpoint: the gate refuses it (MG223) and it stays in draft.
    ("review", "ben", "churn-predictor", "0.3.0", "reject",
     "The checkpoint's pickle imports exec (__builtin__.exec); ask the contractor for safetensors weights."),
]


def build_demo_registry(*, directory: Path, bundles: list[Path], policy_path: Path,
                        progress: Progress | None = None) -> Path:
    """Create ``directory/registry.db`` with ``bundles`` imported and the demo history played."""
    from modelgate.core.registry import init_registry, open_registry, workflow
    from modelgate.core.registry.policies import set_policy

    progress = progress or Progress()
    url = f"sqlite:///{directory / 'registry.db'}"
    init_registry(url=url, user=ADMIN).close()

    def as_user(user: str):
        return open_registry(url=url, user=user)

    from modelgate.core.registry.attestations import sign_attestations
    from modelgate.core.registry.signatures import sign_version, trust_key
    from modelgate.core.signing.dsse import KeySigner
    from modelgate.core.signing.keys import load_private_key
    from modelgate.core.signing.keys import generate_key_pair

    key = generate_key_pair(name=SIGNER, out_dir=directory / KEYS_DIR, passphrase=DEMO_PASSPHRASE.encode())
    # Decrypting the key is deliberately slow; the release officer unlocks it once.
    attester = KeySigner(load_private_key(key.private_path, passphrase=DEMO_PASSPHRASE.encode()))
    admin = as_user(ADMIN)
    try:
        set_policy(admin, path=policy_path)
        for name, roles in USERS.items():
            admin.add_user(name=name, roles=roles)
        trust_key(admin, name=SIGNER, public_key=key.public_path)
    finally:
        admin.close()
    progress.start(label="filling the demo registry", total=len(bundles) + len(_SCRIPT))
    for folder in bundles:
        model = _model_of(folder.name)
        registry = as_user(OWNERS[model])
        try:
            registry.import_bundle(path=folder)
        finally:
            registry.close()
        progress.advance(1)
    for step in _SCRIPT:
        kind, user, name = step[:3]
        registry = as_user(user)
        try:
            if kind == "review":
                workflow.review(registry, name=name, version=step[3], decision=step[4], comment=step[5])
            elif kind == "sign":
                sign_version(registry, name=name, version=step[3], key=key.private_path,
                             passphrase=DEMO_PASSPHRASE.encode(), signer=user)
            elif kind == "attest":
                sign_attestations(registry, name=name, version=step[3], signer=attester)
            elif kind == "promote":
                workflow.promote(registry, name=name, version=step[3], to_stage=step[4], reason=step[5])
            else:
                workflow.rollback(registry, name=name, reason=step[3])
        finally:
            registry.close()
        progress.advance(1)
    return directory / "registry.db"


def _model_of(folder_name: str) -> str:
    for model in OWNERS:
        if folder_name.startswith(model + "-"):
            return model
    raise ValueError(f"{folder_name} is not a demo bundle")
