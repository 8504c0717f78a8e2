"""Persisted and trusted documents: operations a client names by the SHA-256 of their text.

The operations the clients are built from (`operations/*.graphql`) are registered when the app starts,
each under two hashes: of its text as written there (the operation, then each fragment it uses, as
written, separated by a blank line), and of that document as graphql-js's `print` writes it (what
Apollo Client and urql hash). A client then sends only the hash, with its variables:

- Apollo's automatic persisted queries (APQ; Apollo Client and urql's persisted exchange):
  `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "…"}}, "variables": …}`. An unknown
  hash answers `PersistedQueryNotFound` (code PERSISTED_QUERY_NOT_FOUND), and the client sends the
  hash again with the query, which is then held by this process (at most `APQ_CACHE` of them) unless
  only trusted documents are accepted.
- Trusted documents (the GraphQL-over-HTTP persisted documents proposal): `{"documentId":
  "sha256:…"}`, registered documents only.

`LOYALTY_TRUSTED_DOCUMENTS_ONLY=true` (for production) refuses any document that is not registered
(PERSISTED_QUERY_NOT_IN_LIST). Whatever the route, a document is parsed, measured and validated once
per process (`api.core.document_limits` caches them by text), and a registered one is checked when the
app starts, so a broken operation file stops the start, not a client.
"""
from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

from graphql import (
    DocumentNode, FragmentDefinitionNode, FragmentSpreadNode, OperationDefinitionNode, Source, parse, print_ast,
    validate, visit,
)
from graphql.language import Visitor
from strawberry.http import GraphQLRequestData

APQ_CACHE = 1000
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"


@dataclass(frozen=True)
class DocumentRefused(Exception):
    """A persisted-document request that cannot run: `status` 200 for an unknown hash (a GraphQL error the
    client answers by sending the query), 400 for the rest."""

    status: int
    code: str
    message: str


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Spreads(Visitor):
    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args):
        self.names.append(node.name.value)


def _used_fragments(node, fragments: dict[str, FragmentDefinitionNode]) -> list[FragmentDefinitionNode]:
    """The fragments `node` spreads, directly or through others, in the order they are first met."""
    found: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)
        for name in spreads.names:
            if name not in found and name in fragments:
                found[name] = fragments[name]
                pending.append(fragments[name])
    return list(found.values())


def operation_documents(text: str) -> dict[str, str]:
    """Each named operation of a file, as a document of its own: the operation, then the fragments it
    uses, each as written in `text`, separated by a blank line."""
    document = parse(Source(text))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    written = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
            parts = [definition, *_used_fragments(definition, fragments)]
            written[definition.name.value] = "\n\n".join(text[p.loc.start:p.loc.end] for p in parts)
    return written


@functools.lru_cache(maxsize=8)
def registered_documents(folder: Path, schema) -> tuple[dict[str, str], dict[str, DocumentNode]]:
    """The operations of `folder/*.graphql`: their texts by hash (as written and as printed), and each text's
    parsed document, checked against `schema` once per process (every app of the process shares them)."""
    by_hash: dict[str, str] = {}
    parsed: dict[str, DocumentNode] = {}
    for path in sorted(folder.glob("*.graphql")):
        for name, text in operation_documents(path.read_text(encoding="utf-8")).items():
            document = parse(text)
            errors = validate(schema, document)
            if errors:
                raise ValueError(f"{path.name}: operation {name} does not validate: {errors[0].message}")
            by_hash[sha256(text)] = by_hash[sha256(print_ast(document))] = text
            parsed[text] = document
    return by_hash, parsed


class PersistedDocuments:
    """The registered documents by hash, and (unless only trusted documents are accepted) the documents
    clients registered through APQ, by hash, least recently used dropped first."""

    def __init__(self, registered: dict[str, str], trusted_only: bool):
        self.registered = registered
        self.trusted_only = trusted_only
        self._sent: OrderedDict[str, str] = OrderedDict()

    @classmethod
    def from_directory(cls, folder: Path, schema, trusted_only: bool) -> "PersistedDocuments":
        """Every operation of `folder/*.graphql`, checked against `schema` (graphql-core's)."""
        return cls(registered_documents(folder, schema)[0], trusted_only)

    def resolve(self, data: GraphQLRequestData, document_id: object = None) -> GraphQLRequestData:
        """`data` with its document's text, found by its hash; DocumentRefused when it cannot be."""
        if document_id is not None:
            if data.query is not None:
                raise DocumentRefused(400, "BAD_REQUEST", "Send `documentId` or `query`, not both.")
            if not isinstance(document_id, str):
                raise DocumentRefused(400, "BAD_REQUEST", "`documentId` must be a string: sha256:<hex>.")
            text = self.registered.get(document_id.removeprefix("sha256:").lower())
            if text is None:
                raise DocumentRefused(200, NOT_FOUND, f"No registered document has the id {document_id[:80]!r}.")
            return replace(data, query=text)
        persisted = (data.extensions or {}).get("persistedQuery")
        if persisted is None:
            return self._plain(data)
        if not isinstance(persisted, dict) or persisted.get("version") != 1 \
                or not isinstance(persisted.get("sha256Hash"), str):
            raise DocumentRefused(400, "BAD_REQUEST", "`extensions.persistedQuery` must be {\"version\": 1, "
                                                      "\"sha256Hash\": \"<hex>\"}.")
        digest = persisted["sha256Hash"].lower()
        if data.query is None:
            text = self.registered.get(digest) or self._recall(digest)
            if text is None:
                raise DocumentRefused(200, NOT_FOUND, "PersistedQueryNotFound")
            return replace(data, query=text)
        if sha256(data.query) != digest:
            raise DocumentRefused(400, "BAD_REQUEST", "provided sha does not match query")
        if digest not in self.registered:
            self._plain(data)
            self._sent[digest] = data.query
            if len(self._sent) > APQ_CACHE:
                self._sent.popitem(last=False)
        return data

    def _plain(self, data: GraphQLRequestData) -> GraphQLRequestData:
        """A request that sends its document: refused if only trusted documents are accepted and it is not one."""
        if self.trusted_only and isinstance(data.query, str) and sha256(data.query) not in self.registered:
            raise DocumentRefused(400, NOT_IN_LIST, "Only the registered operations are accepted here: send "
                                                    "one of them, or its sha256Hash.")
        return data

    def _recall(self, digest: str) -> str | None:
        text = self._sent.get(digest)
        if text is not None:
            self._sent.move_to_end(digest)
        return text
