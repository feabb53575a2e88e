"""Benchmarks of c2k against docker-compose, kompose and kubectl: `make bench`."""
