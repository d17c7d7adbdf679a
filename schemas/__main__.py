"""The data dictionary (Markdown) from the table specs: `python -m schemas` prints it,
`python -m schemas --write docs/data-dictionary.md` rewrites the checked-in page."""

from __future__ import annotations

import argparse
from pathlib import Path

from schemas.tables import ALL_TABLES

COMMAND = "python -m schemas --write docs/data-dictionary.md"


def data_dictionary() -> str:
    parts = []
    for spec in ALL_TABLES:
        partitioning = f" Partitioned by `{', '.join(spec.partition_by)}`." if spec.partition_by else ""
        parts.append(f"## `{spec.name}` ({spec.kind})\n\n{spec.comment}{partitioning}\n")
        parts.append("| column | type | null | comment |\n|---|---|---|---|")
        for field in spec.schema.fields:
            pii = " (personal data: no file statistics)" if field.metadata.get("pii") else ""
            parts.append(
                f"| `{field.name}` | {field.dataType.simpleString()} | {'yes' if field.nullable else 'no'} "
                f"| {field.metadata.get('comment', '')}{pii} |"
            )
        parts.append("")
    return "\n".join(parts)


def data_dictionary_page() -> str:
    """The whole page docs/data-dictionary.md, which says at its top that it is generated."""
    return (
        f"<!-- Generated from schemas/ by `{COMMAND}`: edit the schemas, not this page. -->\n"
        "# Data dictionary\n\n"
        f"Generated from `schemas/` by `{COMMAND}` (a test checks that it matches).\n"
        "Types are Spark SQL types; columns marked as personal data are kept out of Delta's file\n"
        "statistics.\n\n"
        f"{data_dictionary()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas",
                                     description="Print or write the data dictionary.")
    parser.add_argument("--write", type=Path, metavar="FILE",
                        help="write the page to FILE instead of stdout")
    args = parser.parse_args(argv)
    page = data_dictionary_page()
    if args.write:
        args.write.write_text(page, encoding="utf-8")
    else:
        print(page, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
