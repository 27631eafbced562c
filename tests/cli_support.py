"""Running the command line in-process the way a test reads it: exit code, stdout, stderr."""

from __future__ import annotations

from modelgate.core.cli.main import main


def run(capsys, *argv):
    """``modelgate ARGV...`` in this process; whatever it says, never a traceback or an internal error."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err, err
    return code, out, err
