#!/usr/bin/python3
"""A Quarry client on Debian's grpcio: ingest text files, search them, ask a question.

It needs only /usr/bin/python3 with python3-grpcio and python3-protobuf, and the protoc and
grpc_python_plugin that scripts/bootstrap installs: the stubs are generated from the project's
protos into a cache folder on first use.

  examples/python_client.py ingest FILE...            send files to the router as documents
  examples/python_client.py search "QUESTION" [-k N]  the best passages, with scores
  examples/python_client.py ask "QUESTION"            a cited answer, streamed as it comes

Options before the command: --router (127.0.0.1:7300), --answer (127.0.0.1:7301), --tenant
(default). `ingest` splits each file into passages at blank lines; the router embeds them with
its embedder. A real application would rather use `quarry ingest`, which also reads HTML, PDF
and Markdown and cuts passages by tokens.
"""
import argparse
import os
import subprocess
import sys

import grpc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOS = ["quarry/v1/types.proto", "quarry/v1/shard.proto", "quarry/v1/router.proto",
          "quarry/v1/answer.proto"]


def load_stubs():
    """Generates the Python stubs (once per change of the protos) and imports them."""
    proto_dir = os.path.join(ROOT, "proto")
    newest = max(os.path.getmtime(os.path.join(proto_dir, p)) for p in PROTOS)
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                         "quarry-python-stubs")
    stamp = os.path.join(cache, "stamp")
    if not os.path.exists(stamp) or os.path.getmtime(stamp) < newest:
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["protoc", "-I", proto_dir, "--python_out", cache,
                        "--grpc_python_out", cache,
                        "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] + PROTOS,
                       check=True)
        with open(stamp, "w"):
            pass
    sys.path.insert(0, cache)
    global types_pb2, shard_pb2, router_pb2, router_pb2_grpc, answer_pb2, answer_pb2_grpc
    from quarry.v1 import types_pb2, shard_pb2, router_pb2, router_pb2_grpc
    from quarry.v1 import answer_pb2, answer_pb2_grpc


def ingest(args):
    router = router_pb2_grpc.RouterStub(grpc.insecure_channel(args.router))
    request = router_pb2.IngestRequest()
    for path in args.files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        passages = [p.strip() for p in text.split("\n\n") if p.strip()]
        if not passages:
            print(f"{path}: no text, skipped", file=sys.stderr)
            continue
        document = types_pb2.Document(id=os.path.abspath(path), tenant=args.tenant,
                                      title=os.path.basename(path), source=os.path.abspath(path))
        entry = request.documents.add(document=document)
        for ordinal, passage in enumerate(passages):
            entry.chunks.add(ordinal=ordinal, text=passage)
    reply = router.Ingest(request, timeout=60)
    for written in reply.documents:
        state = "ok" if written.ok else "FAILED: " + written.error
        print(f"{written.doc_id}: shard {written.shard}, {state}")
    print(f"{len(reply.documents)} documents, {reply.chunks} passages")
    return 0 if all(d.ok for d in reply.documents) else 1


def search(args):
    router = router_pb2_grpc.RouterStub(grpc.insecure_channel(args.router))
    reply = router.Search(router_pb2.RouterSearchRequest(
        text=args.question, k=args.k, include_text=True,
        principal=types_pb2.Principal(tenant=args.tenant)), timeout=10)
    for rank, hit in enumerate(reply.hits, 1):
        snippet = " ".join(hit.text.split())[:160]
        print(f"{rank}. {hit.score:.4f}  {hit.title} ({hit.source})\n   {snippet}")
    coverage = reply.coverage
    print(f"{coverage.shards_ok} of {coverage.shards_total} shards answered"
          + (" (partial)" if reply.partial else ""))
    return 0


def ask(args):
    answer = answer_pb2_grpc.AnswerStub(grpc.insecure_channel(args.answer))
    request = answer_pb2.AskRequest(question=args.question,
                                    principal=types_pb2.Principal(tenant=args.tenant))
    sources = []
    for part in answer.Ask(request, timeout=120):
        kind = part.WhichOneof("part")
        if kind == "prompt":
            sources = list(part.prompt.sources)
            packing = part.prompt.packing
            print(f"[{packing.prompt_tokens} of {packing.budget} prompt tokens, "
                  f"{packing.passages_used} passages, mode "
                  f"{answer_pb2.AnswerMode.Name(part.prompt.mode)}]")
        elif kind == "delta":
            print(part.delta.text, end="", flush=True)
        elif kind == "done":
            print(f"\n[finished: {part.done.finish_reason}]")
    print("Sources:")
    for source in sources:
        print(f"  [{source.citation}] {source.title} — {source.source}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--router", default="127.0.0.1:7300")
    parser.add_argument("--answer", default="127.0.0.1:7301")
    parser.add_argument("--tenant", default="default")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest_parser = commands.add_parser("ingest", help="send text files to the router")
    ingest_parser.add_argument("files", nargs="+")
    search_parser = commands.add_parser("search", help="the best passages for a question")
    search_parser.add_argument("question")
    search_parser.add_argument("-k", type=int, default=5)
    ask_parser = commands.add_parser("ask", help="a cited answer to a question")
    ask_parser.add_argument("question")
    args = parser.parse_args()

    load_stubs()
    try:
        return {"ingest": ingest, "search": search, "ask": ask}[args.command](args)
    except grpc.RpcError as error:
        print(f"{args.command}: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
