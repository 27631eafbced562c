"""The signing station: sign a registry version with a private key, then verify its signatures.

It shows exactly what a signature covers (every stored file but ``signatures/``, with
sizes and the total), signs through the core's ``sign_version`` (hash with progress,
sign with model-signing, verify against the registry's trusted signers, record, audit),
and verifies every signature of the version again on request. The passphrase is read
from its field once, the field is cleared at once, and it is never stored or logged.
With a signing certificate (and its intermediate CA certificates) the signature carries
the certificate chain instead of naming the key; the registry records it when the chain
leads to a CA it trusts and the certificate's common name is the signer's user name.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QFrame, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from modelgate.core.outputs import human_bytes
from modelgate.gui.inspector.widgets import BAD, DOUBT, GOOD, table
from modelgate.gui.ops import signing
from modelgate.gui.ops.background import BackgroundOperation, release

STATUS_COLOUR = {"valid": GOOD, "untrusted": DOUBT}


def _verified_text(check) -> str:
    """What a valid signature vouches for, with its certificate chain and the files it leaves out."""
    text = "verifies: the signed digests match the stored bytes"
    if check.uncovered:
        text = (f"valid for what it covers, but leaves out {len(check.uncovered)} file(s): "
                f"{', '.join(check.uncovered[:5])}")
    if check.chain:
        text += f"; certificate chain {' ← '.join(check.chain)}"
    return text


class SigningStation(QDialog):
    """Sign ``info`` (a registry version) and verify its signatures."""

    signed = Signal(object)         # list of SignatureInfo recorded
    verified = Signal(object)       # VerifyReport

    def __init__(self, *, connection, workers, progress_panel, info, key_path: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signing-station")
        self.setWindowTitle(f"Signing station — {info.ref}")
        self.resize(780, 640)            # the groups scroll in a shorter one
        self.connection, self.info = connection, info
        self._workers, self._progress = workers, progress_panel
        self.files: list[tuple[str, int]] = []
        self.signing = False

        self.files_box = QVBoxLayout()
        self.total_label = QLabel("Reading the stored bundle…", objectName="signing-total")
        self.key_edit = QLineEdit(key_path, objectName="signing-key")
        self.key_edit.setPlaceholderText("The private key file (PEM, encrypted), or a token key: "
                                         "pkcs11:token=LABEL;object=KEY")
        self.key_edit.setToolTip("A key file, or a key in a hardware token (HSM, smart card) named by its "
                                 "PKCS#11 URI; for a token key, the passphrase field takes the token's PIN.")
        browse = QPushButton("Choose…")
        browse.setAutoDefault(False)        # Enter in the passphrase field signs; it never opens this
        browse.clicked.connect(self._choose_key)
        self.certificate_edit = QLineEdit(objectName="signing-certificate")
        self.certificate_edit.setPlaceholderText("Optional: the key's X.509 signing certificate (PEM)")
        browse_certificate = QPushButton("Choose…")
        browse_certificate.setAutoDefault(False)
        browse_certificate.clicked.connect(lambda: self._choose_pem(self.certificate_edit, "Signing certificate"))
        self.chain_edit = QLineEdit(objectName="signing-chain")
        self.chain_edit.setPlaceholderText("Optional: intermediate CA certificates (PEM) to carry with it")
        browse_chain = QPushButton("Choose…")
        browse_chain.setAutoDefault(False)
        browse_chain.clicked.connect(lambda: self._choose_pem(self.chain_edit, "Intermediate CA certificates"))
        self.passphrase_edit = QLineEdit(objectName="signing-passphrase")
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setPlaceholderText("Asked for each signature; never stored")
        self.sign_button = QPushButton("Sign", objectName="sign-button")
        self.sign_button.setAutoDefault(False)
        self.message = QLabel(objectName="signing-message")
        self.message.setWordWrap(True)
        self.verify_button = QPushButton("Verify signatures", objectName="verify-button")
        self.verify_button.setAutoDefault(False)
        self.verify_button.setToolTip("Check every signature of this version again against the registry's "
                                      "trusted signers")
        self.verify_box = QVBoxLayout()

        what = QGroupBox("What will be signed")
        what_layout = QVBoxLayout(what)
        what_layout.addLayout(self.files_box)
        what_layout.addWidget(self.total_label)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(browse)
        sign = QGroupBox(f"Sign as {connection.actor}")
        form = QFormLayout(sign)
        form.addRow("Private key:", key_row)
        certificate_row = QHBoxLayout()
        certificate_row.addWidget(self.certificate_edit, 1)
        certificate_row.addWidget(browse_certificate)
        form.addRow("Certificate:", certificate_row)
        chain_row = QHBoxLayout()
        chain_row.addWidget(self.chain_edit, 1)
        chain_row.addWidget(browse_chain)
        form.addRow("Intermediates:", chain_row)
        form.addRow("Passphrase / PIN:", self.passphrase_edit)
        form.addRow("", self.sign_button)
        form.addRow(self.message)
        verify = QGroupBox("Signatures of this version")
        verify_layout = QVBoxLayout(verify)
        verify_layout.addLayout(self.verify_box)
        verify_layout.addWidget(self.verify_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAutoDefault(False)
        # The groups scroll up and down, the Close button stays: a short window (200 % scaling)
        # still reaches every field.
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(what)
        body_layout.addWidget(sign)
        body_layout.addWidget(verify)
        body_layout.addStretch(1)
        scroll = QScrollArea(objectName="signing-scroll")
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(body.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)

        self.sign_button.clicked.connect(self.sign)
        self.passphrase_edit.returnPressed.connect(self.sign)
        self.verify_button.clicked.connect(self.verify)
        self.key_edit.textChanged.connect(self._update_sign_button)
        self.certificate_edit.textChanged.connect(self._update_sign_button)
        self.chain_edit.textChanged.connect(self._update_sign_button)
        self.passphrase_edit.textChanged.connect(self._update_sign_button)
        self._update_sign_button()
        self._read_files()
        self.verify()

    # ------------------------------------------------------------------ what is signed
    def _read_files(self) -> None:
        info, connection = self.info, self.connection
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda _p: signing.covered(connection, name=info.name, version=info.version)) \
            .on_success(self._on_files_read).on_failure(self._on_files_failed).start()

    def _on_files_failed(self, error) -> None:
        from modelgate.gui.dialogs.error import explain

        message, hint = explain(error)
        self.total_label.setText(f"The stored bundle could not be read: {message}" + (f" {hint}" if hint else ""))
        self.total_label.setStyleSheet(f"color: {BAD};")

    def _on_files_read(self, files) -> None:
        self.files = files
        total = sum(size for _file, size in files)
        self.files_box.addWidget(table(("File", "Size"), [(f, human_bytes(s)) for f, s in files],
                                       object_name="signed-files", stretch=0))
        self.total_label.setText(f"{len(files)} file(s), {human_bytes(total)} in all: every file of the stored "
                                 "bundle except signatures/, bundle.yaml included.")
        self._update_sign_button()

    # ------------------------------------------------------------------ signing
    def refusal(self) -> str | None:
        """Why Sign is disabled now, or None."""
        refused = self.connection.role_refusal("signer", doing="signing")
        if refused:
            return refused
        if self.signing:
            return f"Signing {self.info.ref}…"
        if not self.files:
            return "The stored bundle is being read (or could not be read: see above)."
        if not self.key_edit.text().strip():
            return "Choose your private key file."
        if self._token_key() and (self.certificate_edit.text().strip() or self.chain_edit.text().strip()):
            return "A token key signs under its key hint; leave the certificate fields empty."
        if self.chain_edit.text().strip() and not self.certificate_edit.text().strip():
            return "Intermediate certificates go with a signing certificate; choose it too."
        if not self.passphrase_edit.text():
            return "Enter the token's PIN." if self._token_key() else "Enter the key's passphrase."
        return None

    def _token_key(self) -> bool:
        return self.key_edit.text().strip().startswith("pkcs11:")

    def _update_sign_button(self) -> None:
        why = self.refusal()
        self.sign_button.setEnabled(why is None)
        self.sign_button.setToolTip(why or f"Sign {self.info.ref}, verify the signature and record it")
        if why and not self.connection.holds("signer"):
            self._say(why, BAD)

    def _choose_key(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Private key", self.key_edit.text(),
                                              "Private keys (*.key *.pem);;All files (*)")
        if path:
            self.key_edit.setText(path)

    def _choose_pem(self, field: QLineEdit, title: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, title, field.text(),
                                              "Certificates (*.pem *.crt *.cer);;All files (*)")
        if path:
            field.setText(path)

    def sign(self) -> None:
        """Sign in the background; the passphrase leaves its field now."""
        if self.refusal() is not None:
            return
        passphrase = self.passphrase_edit.text().encode("utf-8")
        self.passphrase_edit.clear()
        key, info, connection = Path(self.key_edit.text().strip()), self.info, self.connection
        certificate = Path(self.certificate_edit.text().strip()) if self.certificate_edit.text().strip() else None
        chain = (Path(self.chain_edit.text().strip()),) if self.chain_edit.text().strip() else ()
        if self._token_key():
            uri, pin = self.key_edit.text().strip(), passphrase.decode("utf-8")

            def work(progress):
                return signing.sign_with_token(connection, name=info.name, version=info.version, uri=uri, pin=pin,
                                               progress=progress)
        else:
            def work(progress):
                return signing.sign(connection, name=info.name, version=info.version, key=key,
                                    passphrase=passphrase, progress=progress, certificate=certificate, chain=chain)
        self.signing = True
        self.close_button.setEnabled(False)
        self._update_sign_button()
        self._say(f"Signing {info.ref}…", None)
        BackgroundOperation(parent=self, executor=self._workers.registry, work=work) \
            .with_progress(panel=self._progress, label=f"Signing {info.ref}") \
            .on_success(self._on_signed).on_failure(self._on_sign_failed) \
            .on_cancelled(self._on_sign_cancelled).start()

    def _finish_signing(self) -> None:
        self.signing = False
        self.close_button.setEnabled(True)
        self._update_sign_button()

    def _on_sign_cancelled(self) -> None:
        self._finish_signing()
        self._say("Signing cancelled; nothing was recorded.", DOUBT)

    def _on_signed(self, recorded) -> None:
        from modelgate.core.signing.keys import short

        self._finish_signing()
        who = ", ".join(f"{s.signer} ({short(s.key_fingerprint)})" for s in recorded) or "no new signature"
        self._say(f"Signed, verified against the registry's trusted signers and recorded: {who}.", GOOD)
        self.signed.emit(recorded)
        self.verify()

    def _on_sign_failed(self, error) -> None:
        from modelgate.gui.dialogs.error import explain

        self._finish_signing()
        message, hint = explain(error)
        self._say(f"Not signed: {message}" + (f"\n{hint}" if hint else ""), BAD)
        self.passphrase_edit.setFocus()

    def _say(self, text: str, colour: str | None) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {colour};" if colour else "")

    def reject(self) -> None:
        if self.signing:        # the signature's outcome must reach this dialog and the window
            return
        super().reject()

    def done(self, code: int) -> None:
        release(owner=self)     # reads still running stop, and their outcomes are dropped
        super().done(code)

    # ------------------------------------------------------------------ verifying
    def verify(self) -> None:
        """Check every signature of the version again (hashes the stored bundle)."""
        info, connection = self.info, self.connection
        self.verify_button.setEnabled(False)
        BackgroundOperation(parent=self, executor=self._workers.registry,
                            work=lambda progress: signing.verify(connection, name=info.name, version=info.version,
                                                                 progress=progress)) \
            .with_progress(panel=self._progress, label=f"Verifying the signatures of {info.ref}") \
            .on_success(self._on_verified).on_failure(self._on_verify_failed) \
            .on_cancelled(lambda: self.verify_button.setEnabled(True)).start()

    def _on_verified(self, report) -> None:
        from modelgate.core.signing.keys import short

        self.verify_button.setEnabled(True)
        while self.verify_box.count():
            old = self.verify_box.takeAt(0).widget()
            old.hide()          # deleted when the event loop next runs; never drawn under the new one
            old.deleteLater()
        if not report.checks:
            self.verify_box.addWidget(QLabel(f"{self.info.ref} has no signature yet."))
        else:
            rows = [(c.signer or "(not trusted)", short(c.fingerprint) if c.fingerprint else "—", c.status,
                     c.reason or _verified_text(c), c.file) for c in report.checks]
            self.verify_box.addWidget(table(("Signer", "Key fingerprint", "Result", "Why", "Signature"), rows,
                                            colours=[STATUS_COLOUR.get(c.status, BAD) for c in report.checks],
                                            object_name="verify-results", stretch=3))
        verdict = QLabel(f"Trust store: {report.trust}. " + (
            "Every signature verifies." if report.passed else
            "Not every signature verifies." if report.checks else ""), objectName="verify-verdict")
        verdict.setWordWrap(True)
        self.verify_box.addWidget(verdict)
        self.verified.emit(report)

    def _on_verify_failed(self, error) -> None:
        from modelgate.gui.dialogs.error import show_error

        self.verify_button.setEnabled(True)
        show_error(parent=self, error=error, action=f"Verifying {self.info.ref}")
