"""The documents a newcomer reads: a short README, and reference pages that stay true."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
from pydantic import SecretStr

from bff.app import build_app
from bff.demo import DEMO_EMAIL, UNLINKED_CARD_CODE, UNLINKED_CARD_NUMBER
from bff.loyalty.cards import issue_card
from bff.settings import DEVELOPMENT_INTERNAL_API_KEY
from tests.conftest import make_settings
from tests.factories import create_member

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 150
# Markdown links [text](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _settings_in_env_example() -> list[str]:
    return [
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]


def _bff_packages_and_modules() -> list[str]:
    """Each package (a directory with __init__.py) and top-level module under bff/, as a path."""
    bff = ROOT / "bff"
    packages = [
        f"bff/{path.parent.relative_to(bff).as_posix()}/"
        for path in bff.rglob("__init__.py")
        if path.parent != bff and "migrations" not in path.parent.relative_to(bff).parts
    ]
    modules = [f"bff/{path.name}" for path in bff.glob("*.py") if path.name != "__init__.py"]
    return sorted(packages + modules)


def test_the_readme_has_at_most_150_lines():
    """The README is an entry point; reference material lives in docs/."""

    lines = README.read_text().splitlines()

    assert len(lines) <= MAX_README_LINES


def test_every_package_and_top_level_module_is_on_the_architecture_map():
    """docs/architecture.md names every bff/ package and bff/*.py module, so the map stays whole."""
    architecture = (DOCS / "architecture.md").read_text()

    missing = [path for path in _bff_packages_and_modules() if path not in architecture]

    assert missing == []


def test_every_setting_in_env_example_is_documented_in_operations():
    """docs/operations.md explains each setting that .env.example lists."""
    operations = (DOCS / "operations.md").read_text()

    missing = [name for name in _settings_in_env_example() if f"`{name}`" not in operations]

    assert missing == []


def test_links_from_the_readme_to_docs_resolve():
    """Every link from README.md into docs/ (or bench/) names a file that exists."""
    targets = [
        link.split("#", 1)[0]
        for link in LINK.findall(README.read_text())
        if link.startswith(("docs/", "bench/"))
    ]

    missing = [target for target in targets if not (ROOT / target).is_file()]

    assert targets
    assert missing == []


def test_links_between_docs_pages_resolve():
    """Relative links inside docs/ name files of this repository that exist."""
    broken = []
    for page in DOCS.glob("*.md"):
        for link in LINK.findall(page.read_text()):
            target = link.split("#", 1)[0]
            if not target or "://" in link or link.startswith("mailto:"):
                continue
            resolved = (page.parent / target).resolve()
            if resolved.is_relative_to(ROOT) and not resolved.exists():
                broken.append(f"{page.name}: {link}")

    assert broken == []


def _curl_examples(text: str) -> list[tuple[list[str], int]]:
    """The curl commands of a page's sh blocks, with `$NAME`s filled in, and the status the
    comment line after each shows (`# 201 {...}`)."""
    examples = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        variables = dict(re.findall(r"^([A-Z]+)=(\S+)$", block, re.MULTILINE))
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            if not lines[index].startswith("curl "):
                index += 1
                continue
            command = lines[index]
            while command.endswith("\\") or command.count("'") % 2:
                index += 1
                command = command.removesuffix("\\") + "\n" + lines[index]
            index += 1
            status = re.match(r"# (\d{3}) ", lines[index]) if index < len(lines) else None
            assert status, f"no `# <status> ...` line after {command!r}"
            for name, value in variables.items():
                command = command.replace(f"${name}", value)
            examples.append((shlex.split(command), int(status.group(1))))
    return examples


async def _send(client: httpx.AsyncClient, argv: list[str]) -> httpx.Response:
    method, headers, body, url = "GET", {}, None, ""
    arguments = iter(argv[1:])
    for argument in arguments:
        if argument == "-X":
            method = next(arguments)
        elif argument == "-H":
            name, _, value = next(arguments).partition(":")
            headers[name] = value.strip()
        elif argument == "-d":
            body = next(arguments)
        elif argument.startswith("http"):
            url = argument
    return await client.request(method, httpx.URL(url).path, headers=headers, content=body)


async def test_the_store_api_curl_examples_answer_as_documented(app, settings):
    """The curl examples in README.md and docs/internal-api.md, sent to an app with `make run`'s
    key and the demo's card and member, answer with the statuses written beside them."""
    await issue_card(
        number=UNLINKED_CARD_NUMBER, verification_code=UNLINKED_CARD_CODE, settings=settings
    )
    await create_member(email=DEMO_EMAIL)
    served = build_app(
        make_settings(
            settings.database_url, internal_api_keys=[SecretStr(DEVELOPMENT_INTERNAL_API_KEY)]
        )
    )
    examples = [
        example
        for page in (README, DOCS / "internal-api.md")
        for example in _curl_examples(page.read_text())
    ]
    transport = httpx.ASGITransport(app=served)

    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        statuses = [(await _send(client, argv)).status_code for argv, _ in examples]

    assert len(examples) >= 5
    assert statuses == [expected for _, expected in examples]
