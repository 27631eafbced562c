"""Model formats: what ModelGate reads from a model file, and the bounded process model work runs in."""
