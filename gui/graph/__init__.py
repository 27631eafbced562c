"""The full graph in Netron, served on 127.0.0.1 only and kept offline."""
