"""``python -m service migrate``: bring the database schema to the newest revision (exit 0), or say why not (2)."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from service.app import build_services
from service.migrate import SKIPPED_ON_REPLICA, migrate
from service.secrets import SecretError
from service.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service", description="records service tools")
    parser.add_argument("command", choices=["migrate"], help="migrate: upgrade the schema to the newest revision")
    parser.parse_args(argv)
    try:
        services = build_services(Settings())
        revision = migrate(services.engine)
    except ValidationError as error:
        print(f"migrate: configuration error: {error.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, SecretError) as error:
        print(f"migrate: database unavailable: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    if revision == SKIPPED_ON_REPLICA:
        print("migrate: skipped: read replica (the schema arrives by replication)")
    else:
        print(f"migrate: schema at revision {revision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
