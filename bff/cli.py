"""`bff` — the operator's command line: serve, migrate, seed-demo, prune, export-schema, ..."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from bff.settings import ConfigurationError, Settings, get_settings


def _require_runnable(settings: Settings) -> None:
    problems = settings.production_problems()
    if problems:
        message = "Refusing to start in production; fix these settings:\n  " + "\n  ".join(problems)
        raise ConfigurationError(message)


def serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 (only this command needs the server)

    from bff.logging import configure_logging  # noqa: PLC0415
    from bff.messages.channels import mail_folder  # noqa: PLC0415

    settings = get_settings()
    _require_runnable(settings)
    configure_logging(json_lines=settings.json_logs, level=settings.log_level)
    if settings.uses_sqlite and args.workers > 1:
        print("SQLite is one process's database: use PostgreSQL for --workers > 1", file=sys.stderr)
        return 2
    if settings.graphiql_enabled:
        print(f"GraphiQL: http://{args.host}:{args.port}/graphql", flush=True)
    if settings.runs_worker_in_process and (folder := mail_folder(settings.mail_url)):
        print(f"Sent mail: {folder}/*.eml", flush=True)
    uvicorn.run(
        "bff.app:build_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        log_config=None,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        timeout_graceful_shutdown=args.graceful_timeout,
        server_header=False,
        # uvicorn buffers frames up to 16 MiB by default; no frame needs more than this.
        ws_max_size=settings.ws_max_frame_bytes,
    )
    return 0


async def _work(settings: Settings) -> None:
    from bff.db.connection import close_db, init_db  # noqa: PLC0415
    from bff.events import running_bus  # noqa: PLC0415
    from bff.messages.jobs import run_worker  # noqa: PLC0415

    await init_db(settings)
    try:
        async with running_bus(settings):
            await run_worker(settings)  # procrastinate stops it on SIGINT / SIGTERM
    finally:
        await close_db()


def worker(_: argparse.Namespace) -> int:
    from bff.logging import configure_logging  # noqa: PLC0415

    settings = get_settings()
    _require_runnable(settings)
    configure_logging(json_lines=settings.json_logs, level=settings.log_level)
    asyncio.run(_work(settings))
    return 0


def migrate(_: argparse.Namespace) -> int:
    from bff.db.connection import migrate as run_migrations  # noqa: PLC0415

    asyncio.run(run_migrations(get_settings()))
    print("migrations applied")
    return 0


def seed_demo(args: argparse.Namespace) -> int:
    from bff.demo import seed_demo as run_seed  # noqa: PLC0415

    summary = asyncio.run(run_seed(get_settings(), only_if_empty=args.if_empty))
    print(summary)
    return 0


async def _prune(settings: Settings) -> str:
    from bff.db.connection import close_db, init_db  # noqa: PLC0415
    from bff.identity.prune import prune as run_prune  # noqa: PLC0415

    await init_db(settings)
    try:
        pruned = await run_prune(settings=settings)
    finally:
        await close_db()
    return (
        f"deleted {pruned.sessions} ended sessions, "
        f"{pruned.two_factor_challenges} used or expired two-factor challenges, "
        f"{pruned.throttle_counters} idle throttle counters"
    )


def prune(_: argparse.Namespace) -> int:
    print(asyncio.run(_prune(get_settings())))
    return 0


def export_schema(args: argparse.Namespace) -> int:
    from bff.graphql.schema import schema_sdl  # noqa: PLC0415

    sdl = schema_sdl()
    if args.check:
        path = Path(args.check)
        committed = path.read_text() if path.exists() else ""
        if committed != sdl:
            sys.stdout.writelines(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    sdl.splitlines(keepends=True),
                    fromfile=str(path),
                    tofile="generated",
                )
            )
            print(f"\n{path} is out of date: run `make schema` and commit it", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    if args.output:
        Path(args.output).write_text(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


def _schema_problems(settings: Settings) -> list[str]:
    """A database behind the code's migrations, or one that cannot be reached."""
    from bff.db.connection import pending_migrations  # noqa: PLC0415

    try:
        pending = asyncio.run(pending_migrations(settings))
    except Exception as error:  # noqa: BLE001 (any failure to connect is reported, not raised)
        return [f"DATABASE_URL: cannot read the schema ({type(error).__name__}: {error})"]
    if pending:
        names = ", ".join(pending)
        return [f"DATABASE_URL: migrations {names} are not applied: run `bff migrate`"]
    return []


def check_config(args: argparse.Namespace) -> int:
    settings = get_settings()
    problems = settings.production_problems()
    if args.database:
        problems += _schema_problems(settings)
    for problem in problems:
        print(problem)
    print(f"{settings.bff_env.value}: {'not runnable' if problems else 'ok'}")
    return 1 if problems else 0


def generate_secrets(_: argparse.Namespace) -> int:
    print(f"SECRET_KEY={secrets.token_urlsafe(48)}")
    print(f"TOTP_ENCRYPTION_KEYS={Fernet.generate_key().decode()}")
    print(f"INTERNAL_API_KEYS={secrets.token_urlsafe(32)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bff", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="serve the app with uvicorn")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL only)")
    run.add_argument("--reload", action="store_true", help="restart on code changes (dev)")
    run.add_argument(
        "--graceful-timeout",
        type=int,
        default=30,
        help="seconds to let in-flight requests finish on shutdown",
    )
    run.set_defaults(handler=serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=migrate)
    commands.add_parser(
        "worker",
        help="run the background jobs (procrastinate): relay the outbox, deliver mail and push, "
        "daily scans; until SIGTERM",
    ).set_defaults(handler=worker)

    seed = commands.add_parser(
        "seed-demo",
        help="load the demo member, cards and offers, or give the demo member a new password; "
        "print the login",
    )
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="load data only into a database without members (the demo member, when it "
        "exists, still gets a new password)",
    )
    seed.set_defaults(handler=seed_demo)

    commands.add_parser(
        "prune",
        help="delete ended sessions, used or expired two-factor challenges and idle throttle "
        "counters (run daily, e.g. from cron)",
    ).set_defaults(handler=prune)

    export = commands.add_parser("export-schema", help="print or write the GraphQL SDL")
    target = export.add_mutually_exclusive_group()
    target.add_argument("--output", help="write the SDL to this file")
    target.add_argument("--check", metavar="FILE", help="exit 1 when FILE differs from the code")
    export.set_defaults(handler=export_schema)

    check = commands.add_parser(
        "check-config", help="say whether the settings can run in their BFF_ENV"
    )
    check.add_argument(
        "--database",
        action="store_true",
        help="also connect to DATABASE_URL and say whether `bff migrate` is needed",
    )
    check.set_defaults(handler=check_config)
    commands.add_parser(
        "generate-secrets", help="print fresh values for the secret settings"
    ).set_defaults(handler=generate_secrets)
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return 2
    return code


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
