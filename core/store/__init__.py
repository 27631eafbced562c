"""Where a version's bytes live: the folder store beside the registry, or an OCI registry.

:mod:`.interface` says what every back-end does; :mod:`.modelpack` maps a bundle onto a
CNCF ModelPack artifact and judges one read back; :mod:`.oci` moves artifacts to and
from an OCI registry (through oras-py) and :mod:`.layout` to and from an OCI image
layout on disk, for the air gap. The registry imports the store, never the reverse.
"""
