"""Texts of the demo workspace: license texts and the model cards of the demo bundles.

The Apache-2.0 text is the verbatim https://www.apache.org/licenses/LICENSE-2.0.txt
and the MIT text is the SPDX ``MIT`` template with its copyright line filled in.
The CC-BY-NC-4.0 bundle ships the license notice with the legal code's address,
the usual way to apply a Creative Commons license.
"""

from __future__ import annotations

import yaml

#: SHA-256 of the canonical Apache-2.0 LICENSE file, so a test notices any edit.
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

APACHE_2_0 = """
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION

   1. Definitions.

      "License" shall mean the terms and conditions for use, reproduction,
      and distribution as defined by Sections 1 through 9 of this document.

      "Licensor" shall mean the copyright owner or entity authorized by
      the copyright owner that is granting the License.

      "Legal Entity" shall mean the union of the acting entity and all
      other entities that control, are controlled by, or are under common
      control with that entity. For the purposes of this definition,
      "control" means (i) the power, direct or indirect, to cause the
      direction or management of such entity, whether by contract or
      otherwise, or (ii) ownership of fifty percent (50%) or more of the
      outstanding shares, or (iii) beneficial ownership of such entity.

      "You" (or "Your") shall mean an individual or Legal Entity
      exercising permissions granted by this License.

      "Source" form shall mean the preferred form for making modifications,
      including but not limited to software source code, documentation
      source, and configuration files.

      "Object" form shall mean any form resulting from mechanical
      transformation or translation of a Source form, including but
      not limited to compiled object code, generated documentation,
      and conversions to other media types.

      "Work" shall mean the work of authorship, whether in Source or
      Object form, made available under the License, as indicated by a
      copyright notice that is included in or attached to the work
      (an example is provided in the Appendix below).

      "Derivative Works" shall mean any work, whether in Source or Object
      form, that is based on (or derived from) the Work and for which the
      editorial revisions, annotations, elaborations, or other modifications
      represent, as a whole, an original work of authorship. For the purposes
      of this License, Derivative Works shall not include works that remain
      separable from, or merely link (or bind by name) to the interfaces of,
      the Work and Derivative Works thereof.

      "Contribution" shall mean any work of authorship, including
      the original version of the Work and any modifications or additions
      to that Work or Derivative Works thereof, that is intentionally
      submitted to Licensor for inclusion in the Work by the copyright owner
      or by an individual or Legal Entity authorized to submit on behalf of
      the copyright owner. For the purposes of this definition, "submitted"
      means any form of electronic, verbal, or written communication sent
      to the Licensor or its representatives, including but not limited to
      communication on electronic mailing lists, source code control systems,
      and issue tracking systems that are managed by, or on behalf of, the
      Licensor for the purpose of discussing and improving the Work, but
      excluding communication that is conspicuously marked or otherwise
      designated in writing by the copyright owner as "Not a Contribution."

      "Contributor" shall mean Licensor and any individual or Legal Entity
      on behalf of whom a Contribution has been received by Licensor and
      subsequently incorporated within the Work.

   2. Grant of Copyright License. Subject to the terms and conditions of
      this License, each Contributor hereby grants to You a perpetual,
      worldwide, non-exclusive, no-charge, royalty-free, irrevocable
      copyright license to reproduce, prepare Derivative Works of,
      publicly display, publicly perform, sublicense, and distribute the
      Work and such Derivative Works in Source or Object form.

   3. Grant of Patent License. Subject to the terms and conditions of
      this License, each Contributor hereby grants to You a perpetual,
      worldwide, non-exclusive, no-charge, royalty-free, irrevocable
      (except as stated in this section) patent license to make, have made,
      use, offer to sell, sell, import, and otherwise transfer the Work,
      where such license applies only to those patent claims licensable
      by such Contributor that are necessarily infringed by their
      Contribution(s) alone or by combination of their Contribution(s)
      with the Work to which such Contribution(s) was submitted. If You
      institute patent litigation against any entity (including a
      cross-claim or counterclaim in a lawsuit) alleging that the Work
      or a Contribution incorporated within the Work constitutes direct
      or contributory patent infringement, then any patent licenses
      granted to You under this License for that Work shall terminate
      as of the date such litigation is filed.

   4. Redistribution. You may reproduce and distribute copies of the
      Work or Derivative Works thereof in any medium, with or without
      modifications, and in Source or Object form, provided that You
      meet the following conditions:

      (a) You must give any other recipients of the Work or
          Derivative Works a copy of this License; and

      (b) You must cause any modified files to carry prominent notices
          stating that You changed the files; and

      (c) You must retain, in the Source form of any Derivative Works
          that You distribute, all copyright, patent, trademark, and
          attribution notices from the Source form of the Work,
          excluding those notices that do not pertain to any part of
          the Derivative Works; and

      (d) If the Work includes a "NOTICE" text file as part of its
          distribution, then any Derivative Works that You distribute must
          include a readable copy of the attribution notices contained
          within such NOTICE file, excluding those notices that do not
          pertain to any part of the Derivative Works, in at least one
          of the following places: within a NOTICE text file distributed
          as part of the Derivative Works; within the Source form or
          documentation, if provided along with the Derivative Works; or,
          within a display generated by the Derivative Works, if and
          wherever such third-party notices normally appear. The contents
          of the NOTICE file are for informational purposes only and
          do not modify the License. You may add Your own attribution
          notices within Derivative Works that You distribute, alongside
          or as an addendum to the NOTICE text from the Work, provided
          that such additional attribution notices cannot be construed
          as modifying the License.

      You may add Your own copyright statement to Your modifications and
      may provide additional or different license terms and conditions
      for use, reproduction, or distribution of Your modifications, or
      for any such Derivative Works as a whole, provided Your use,
      reproduction, and distribution of the Work otherwise complies with
      the conditions stated in this License.

   5. Submission of Contributions. Unless You explicitly state otherwise,
      any Contribution intentionally submitted for inclusion in the Work
      by You to the Licensor shall be under the terms and conditions of
      this License, without any additional terms or conditions.
      Notwithstanding the above, nothing herein shall supersede or modify
      the terms of any separate license agreement you may have executed
      with Licensor regarding such Contributions.

   6. Trademarks. This License does not grant permission to use the trade
      names, trademarks, service marks, or product names of the Licensor,
      except as required for reasonable and customary use in describing the
      origin of the Work and reproducing the content of the NOTICE file.

   7. Disclaimer of Warranty. Unless required by applicable law or
      agreed to in writing, Licensor provides the Work (and each
      Contributor provides its Contributions) on an "AS IS" BASIS,
      WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or
      implied, including, without limitation, any warranties or conditions
      of TITLE, NON-INFRINGEMENT, MERCHANTABILITY, or FITNESS FOR A
      PARTICULAR PURPOSE. You are solely responsible for determining the
      appropriateness of using or redistributing the Work and assume any
      risks associated with Your exercise of permissions under this License.

   8. Limitation of Liability. In no event and under no legal theory,
      whether in tort (including negligence), contract, or otherwise,
      unless required by applicable law (such as deliberate and grossly
      negligent acts) or agreed to in writing, shall any Contributor be
      liable to You for damages, including any direct, indirect, special,
      incidental, or consequential damages of any character arising as a
      result of this License or out of the use or inability to use the
      Work (including but not limited to damages for loss of goodwill,
      work stoppage, computer failure or malfunction, or any and all
      other commercial damages or losses), even if such Contributor
      has been advised of the possibility of such damages.

   9. Accepting Warranty or Additional Liability. While redistributing
      the Work or Derivative Works thereof, You may choose to offer,
      and charge a fee for, acceptance of support, warranty, indemnity,
      or other liability obligations and/or rights consistent with this
      License. However, in accepting such obligations, You may act only
      on Your own behalf and on Your sole responsibility, not on behalf
      of any other Contributor, and only if You agree to indemnify,
      defend, and hold each Contributor harmless for any liability
      incurred by, or claims asserted against, such Contributor by reason
      of your accepting any such warranty or additional liability.

   END OF TERMS AND CONDITIONS

   APPENDIX: How to apply the Apache License to your work.

      To apply the Apache License to your work, attach the following
      boilerplate notice, with the fields enclosed by brackets "[]"
      replaced with your own identifying information. (Don't include
      the brackets!)  The text should be enclosed in the appropriate
      comment syntax for the file format. We also recommend that a
      file or class name and description of purpose be included on the
      same "printed page" as the copyright notice for easier
      identification within third-party archives.

   Copyright [yyyy] [name of copyright owner]

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
"""

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
        return APACHE_2_0
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
                ("Evaluation", f"{evaluation}\n\n{_table(results)}"),
                ("Ethical considerations", text["Ethical considerations"])]
    body = "\n\n".join(f"## {title}\n\n{content}" for title, content in sections)
    return f"---\n{front}---\n\n# {name} {version}: {text['title']}\n\n{summary}\n\n{body}\n"
