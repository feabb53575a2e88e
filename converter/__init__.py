"""c2k: take a Docker Compose project to Kubernetes."""

__version__ = "0.1.0"
