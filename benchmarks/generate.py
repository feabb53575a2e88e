"""Generate a large, deterministic compose project for the benchmarks.

    python -m benchmarks.generate [--services 500] [-o DIR]

Every service has an image, ports (short and long syntax), environment (mapping and list),
volumes (named, bind and tmpfs), a healthcheck, deploy resources (limits and reservations),
labels, and depends_on (short and long syntax, on one or two hub services that depend on
nothing). The same arguments always give the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

TIERS = ("api", "worker", "cache", "db", "web")


def _service(i: int, services: int, lines: list[str]) -> None:
    name = f"{TIERS[i % len(TIERS)]}-{i:03d}"
    port = 8000 + i
    lines += [
        f"  {name}:",
        f"    image: registry.example.com/bench/{TIERS[i % len(TIERS)]}:1.{i % 17}.{i % 5}",
        f"    command: [\"serve\", \"--port\", \"{port}\", \"--workers\", \"{1 + i % 4}\"]",
        "    restart: unless-stopped",
        "    ports:",
        f"      - \"{port}:{port}\"",
        "      - target: 9090",
        "        protocol: tcp",
        "        name: metrics",
    ]
    if i % 3 == 0:
        lines.append(f"      - \"{20000 + i}:53/udp\"")
    lines += [
        "    environment:",
        f"      SERVICE_NAME: {name}",
        f"      PORT: \"{port}\"",
        "      LOG_LEVEL: ${LOG_LEVEL:-info}",
        f"      DATABASE_URL: postgres://app:app@db-{(i // 5) * 5 + 3:03d}:5432/app{i}",
        f"      FEATURE_FLAGS: \"a,b,c{i % 7}\"",
        "      CACHE_TTL: \"300\"",
        "    labels:",
        "      com.example.team: \"team-" + str(i % 9) + "\"",
        "      com.example.tier: " + TIERS[i % len(TIERS)],
        "    volumes:",
        f"      - data-{i:03d}:/var/lib/app",
        "      - type: bind",
        "        source: ./config",
        "        target: /etc/app",
        "        read_only: true",
    ]
    if i % 4 == 0:
        lines += ["      - type: tmpfs", "        target: /tmp/scratch"]
    lines += [
        "    healthcheck:",
        f"      test: [\"CMD\", \"wget\", \"-q\", \"-O-\", \"http://localhost:{port}/health\"]",
        "      interval: 30s",
        "      timeout: 5s",
        "      retries: 3",
        "      start_period: 10s",
        "    deploy:",
        f"      replicas: {1 + i % 3}",
        "      resources:",
        "        limits:",
        f"          cpus: \"{0.25 * (1 + i % 4):.2f}\"",
        f"          memory: {128 * (1 + i % 4)}M",
        "        reservations:",
        "          cpus: \"0.10\"",
        "          memory: 64M",
    ]
    # Every tenth service is a hub with no dependencies; the others depend on one or two
    # hubs. compose-go's dependency walk (docker-compose config, kompose) is exponential in
    # the number of paths through the graph: long chains with fan-in never finish.
    hubs = (services + 9) // 10
    deps = [] if i % 10 == 0 else sorted({i // 10 * 10, (i // 10 + 1 + i % 3) % hubs * 10})
    if deps:
        lines.append("    depends_on:")
        if i % 2:
            lines += [f"      - {TIERS[j % len(TIERS)]}-{j:03d}" for j in deps]
        else:
            for j in deps:
                lines += [f"      {TIERS[j % len(TIERS)]}-{j:03d}:",
                          "        condition: service_started"]


def render(services: int = 500, name: str = "bench") -> str:
    lines = [f"name: {name}", "services:"]
    for i in range(services):
        _service(i, services, lines)
    lines.append("volumes:")
    lines += [f"  data-{i:03d}: {{}}" for i in range(services)]
    return "\n".join(lines) + "\n"


def generate(folder: Path, services: int = 500) -> Path:
    """Write `docker-compose.yml` (and the bind-mounted config/ folder) into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config").mkdir(exist_ok=True)
    (folder / "config" / "app.conf").write_text("workers = 2\n")
    path = folder / "docker-compose.yml"
    text = render(services)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("-o", "--out", type=Path, default=Path("/tmp/c2k-bench/project-500"))
    args = parser.parse_args()
    print(generate(args.out, args.services))


if __name__ == "__main__":
    main()
