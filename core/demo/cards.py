"""Texts of the demo workspace: license texts and the model cards of the demo bundles.

The Apache-2.0 text is the verbatim https://www.apache.org/licenses/LICENSE-2.0.txt
that the starter template ships, and the MIT text is the SPDX ``MIT`` template with its copyright line filled in.
The CC-BY-NC-4.0 bundle ships the license notice with the legal code's address,
the usual way to apply a Creative Commons license.
"""

from __future__ import annotations

import yaml

#: SHA-256 of the canonical Apache-2.0 LICENSE file, so a test notices any edit.
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

MIT = """MIT License

Copyright (c) {year} {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

CC_BY_NC_4_0 = """{model} {version}
Copyright (c) {year} {holder}

This model is licensed under the Creative Commons Attribution-NonCommercial 4.0
International License (CC BY-NC 4.0). Its token statistics were fit in part on
a corpus distributed under that license, and the model carries the license on.

You may copy, redistribute, remix, transform and build upon the model for
non-commercial purposes only, provided you give appropriate credit, link to the
license and indicate whether changes were made.

The full legal code is at https://creativecommons.org/licenses/by-nc/4.0/legalcode
and a summary at https://creativecommons.org/licenses/by-nc/4.0/
"""


def license_text(spdx: str, *, model: str, version: str, year: str, holder: str) -> str:
    """The LICENSE file of a demo bundle."""
    if spdx == "Apache-2.0":
        from modelgate.core import resources
        return resources.text("templates/starter/LICENSE")
    if spdx == "MIT":
        return MIT.format(year=year, holder=holder)
    if spdx == "CC-BY-NC-4.0":
        return CC_BY_NC_4_0.format(model=model, version=version, year=year, holder=holder)
    raise ValueError(f"no license text for {spdx}")


#: Per-model sections that do not change between versions.
SECTIONS = {
    "credit-risk": {
        "title": "Credit default risk scorer",
        "Intended use": (
            "Ranks consumer loan applications by the probability of default within twelve months, as one "
            "input to an underwriter's decision in the retail lending workflow. The score supports a human "
            "credit decision and never replaces it: applications scoring above 0.5 go to manual review."),
        "Limitations": (
            "Fit on unsecured personal loans up to 50,000 EUR from a single market; it is not validated for "
            "mortgages, business lending or applicants without a credit history. Inputs must come from "
            "credit-feature-pipeline 3.x, which standardises every feature; raw values give meaningless "
            "scores. Calibration drifts when the portfolio default rate moves, so monitoring re-checks it monthly."),
        "Ethical considerations": (
            "Credit scoring is a high-risk use under the EU AI Act and is subject to fair-lending law. The model "
            "receives no protected attribute, but income, age_years and employment_years can act as proxies, so "
            "every release is compared for approval-rate gaps across age bands before promotion, and declined "
            "applicants are entitled to an explanation of the main factors behind their score."),
    },
    "defect-detector": {
        "title": "Surface defect detector for brushed-metal panels",
        "Intended use": (
            "Flags surface defects (scratch, dent, stain) on brushed-aluminium panels from 64x64 RGB crops taken "
            "by the inspection camera at the end of assembly line 3. A flagged part is diverted to a human "
            "inspector; the model never scraps a part on its own."),
        "Limitations": (
            "Trained for brushed aluminium under the line's diffuse lighting: other materials, a lighting change "
            "or crops not scaled to [0, 1] reduce accuracy sharply. It sees one crop at a time, so a defect that "
            "straddles two crops can be missed. Shallow dents are the most frequent confusion (called ok)."),
        "Ethical considerations": (
            "The camera only sees parts on the conveyor; crops are checked so that no person or workstation is in "
            "view, and images are deleted after 30 days. A missed defect can reach a customer, so the line keeps "
            "its sampling inspection by people and the decision threshold favours recall over precision."),
    },
    "support-embedder": {
        "title": "Support ticket embedder",
        "Intended use": (
            "Embeds short English customer-support tickets into 64-dimensional unit vectors, used to route each "
            "ticket to one of eight queues (nearest queue centroid) and to show agents similar past tickets. "
            "Token ids come from support-tokenizer; unknown words map to id 0."),
        "Limitations": (
            "English only, and only the first sixteen tokens of a ticket are used, so long tickets lose detail. "
            "The vocabulary is fixed at 3,000 tokens: new product names are unknown words. Similarity is topical, "
            "not emotional, so an angry and a calm refund request embed alike and urgency must be judged elsewhere."),
        "Ethical considerations": (
            "Tickets can hold personal data: the model runs after the redaction step removes names, e-mail "
            "addresses and order numbers, and embeddings follow the tickets' retention period. A routing error "
            "delays help for a customer, so agents can re-route and their corrections are reviewed every week."),
    },
    "support-assistant": {
        "title": "Support reply assistant (small decoder)",
        "Intended use": (
            "Drafts first replies to customer-support tickets for an agent to edit and send, on the support "
            "team's GPU server (safetensors, transformers) or on agents' laptops (GGUF, llama.cpp). An agent "
            "reads and edits every draft; nothing it writes reaches a customer unreviewed."),
        "Limitations": (
            "A two-layer decoder with a 64-token vocabulary and a 256-token context: it shows how ModelGate "
            "governs a language model's files and is far too small to write useful text. The q8_0 GGUF export "
            "rounds every weight matrix to 8 bits, so its outputs differ slightly from the fp16 checkpoint."),
        "Ethical considerations": (
            "Generated replies can state wrong facts with confidence or echo personal data from a ticket, so "
            "agents must check every draft, tickets are redacted before the model sees them, and drafts are "
            "logged for a weekly sample review by the support quality team."),
    },
    "keyword-spotter": {
        "title": "On-device keyword spotter",
        "Intended use": (
            "Recognises four spoken commands (silence, start, stop, help) from 40 audio features per frame on "
            "the field technicians' Android phones, to control the inspection checklist app hands-free. It "
            "runs on the phone with TensorFlow Lite; no audio leaves the device."),
        "Limitations": (
            "Four keywords only, trained for English speakers in quiet to moderately noisy rooms; strong "
            "machine noise or other languages raise the false-trigger rate. A two-layer float32 network: "
            "phones without a fast CPU should wait for the planned int8 version."),
        "Ethical considerations": (
            "The microphone is open while the app listens, so it runs only while the checklist is on screen, "
            "shows a listening indicator, and keeps no audio. A misheard stop or start is harmless: every "
            "checklist step still needs a tap to confirm."),
    },
    "churn-predictor": {
        "title": "Customer churn predictor (contractor checkpoint)",
        "Intended use": (
            "Scores subscription customers by the probability that they cancel within 90 days, from 12 "
            "standardised account features, so that the retention team can call the customers most at risk "
            "first. The score never changes a customer's price or terms."),
        "Limitations": (
            "Delivered by an outside contractor as a PyTorch checkpoint, whose pickle format runs code when it "
            "is loaded; it must be converted to safetensors from a trusted copy before anyone loads it. Fit "
            "on one market's customers; other markets need their own evaluation."),
        "Ethical considerations": (
            "Retention offers must not depend on protected attributes; the features include tenure and "
            "region, which can act as proxies, so offer rates are compared across age bands before any "
            "release, and customers can always cancel without talking to an agent."),
    },
}


def _table(rows: list[tuple[str, str, str, float]]) -> str:
    lines = ["| artifact | target | metric | value |", "|---|---|---|---|"]
    lines += [f"| {variant} | {target} | {metric} | {value:g} |" for variant, target, metric, value in rows]
    return "\n".join(lines)


def model_card(*, name: str, version: str, license: str, tags: list[str], summary: str,
               training: str, evaluation: str, results: list[tuple[str, str, str, float]]) -> str:
    """MODEL_CARD.md: YAML front matter, then the five sections the policy requires."""
    text = SECTIONS[name]
    front = yaml.safe_dump({"model_name": name, "version": version, "license": license, "tags": tags},
                           sort_keys=False, default_flow_style=None, width=100)
    sections = [("Intended use", text["Intended use"]), ("Limitations", text["Limitations"]),
                ("Training data", training),
                ("Evaluation", f"{evaluation}\n\n{_table(results)}" if results else evaluation),
                ("Ethical considerations", text["Ethical considerations"])]
    body = "\n\n".join(f"## {title}\n\n{content}" for title, content in sections)
    return f"---\n{front}---\n\n# {name} {version}: {text['title']}\n\n{summary}\n\n{body}\n"
