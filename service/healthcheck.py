"""``python -m service.healthcheck``: the container health check (ECS task definition and the Dockerfile's
HEALTHCHECK run this same command). Exit 0 when the service answers ``/health`` on its port with 200, else 1.

The standard library only: it runs every few seconds inside the image, where importing Flask would cost more
than the check itself. Liveness, not readiness: a database outage must not restart healthy processes.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys

COMMAND = ("python", "-m", "service.healthcheck")
TIMEOUT_SECONDS = 2.0


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m service.healthcheck", description=__doc__.split("\n\n")[0]).parse_args(argv)
    port = int(os.environ.get("PORT", "8080"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/health")
        status = connection.getresponse().status
    except OSError as error:
        print(f"healthcheck: no answer on 127.0.0.1:{port}: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"healthcheck: /health answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
