"""Print the data dictionary (Markdown) from the table specs: `python -m schemas`."""

from __future__ import annotations

from schemas.tables import ALL_TABLES


def data_dictionary() -> str:
    parts = []
    for spec in ALL_TABLES:
        partitioning = f" Partitioned by `{', '.join(spec.partition_by)}`." if spec.partition_by else ""
        parts.append(f"#### `{spec.name}` ({spec.kind})\n\n{spec.comment}{partitioning}\n")
        parts.append("| column | type | null | comment |\n|---|---|---|---|")
        for field in spec.schema.fields:
            pii = " (personal data: no file statistics)" if field.metadata.get("pii") else ""
            parts.append(
                f"| `{field.name}` | {field.dataType.simpleString()} | {'yes' if field.nullable else 'no'} "
                f"| {field.metadata.get('comment', '')}{pii} |"
            )
        parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    print(data_dictionary())
