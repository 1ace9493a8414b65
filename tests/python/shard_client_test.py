#!/usr/bin/python3
"""A client Quarry did not write the runtime of: Debian's grpcio against `quarry shard`.

Generates Python stubs from the project's protos with protoc, starts the real binary on a free
loopback port, and drives it only through gRPC: health, reflection, upserts, searches under the
ACL, bad input, deletes, stats and a clean SIGTERM.

Usage: shard_client_test.py --quarry PATH/TO/quarry [unittest options]
"""
import argparse
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRPC_PROTOS = "/usr/share/grpc-proto"
DIM = 24


def generate_stubs(out_dir):
    """Compiles the protos this test uses into `out_dir` and makes them importable.

    The standard health and reflection protos are copied under `std/` first: their own path
    (grpc/...) would shadow the grpc package itself.
    """
    std = os.path.join(out_dir, "std")
    os.makedirs(std)
    for name in ("health/v1/health.proto", "reflection/v1alpha/reflection.proto"):
        shutil.copy(os.path.join(GRPC_PROTOS, "grpc", name), std)
    protos = ["quarry/v1/types.proto", "quarry/v1/shard.proto", "std/health.proto",
              "std/reflection.proto"]
    subprocess.run(
        ["protoc", "-I", os.path.join(ROOT, "proto"), "-I", out_dir,
         "--python_out", out_dir, "--grpc_python_out", out_dir,
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] + protos,
        check=True)
    sys.path.insert(0, out_dir)


def vector(seed):
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(DIM)]


class ShardClientTest(unittest.TestCase):
    quarry = None

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="quarry-py-")
        generate_stubs(cls.work)
        global types_pb2, shard_pb2, shard_pb2_grpc, health_pb2, health_pb2_grpc
        global reflection_pb2, reflection_pb2_grpc
        from quarry.v1 import types_pb2, shard_pb2, shard_pb2_grpc
        from std import health_pb2, health_pb2_grpc
        from std import reflection_pb2, reflection_pb2_grpc

        port_file = os.path.join(cls.work, "port")
        cls.log = open(os.path.join(cls.work, "shard.log"), "w")
        cls.process = subprocess.Popen(
            [cls.quarry, "shard", "--listen", "127.0.0.1:0", "--port-file", port_file,
             "--data", os.path.join(cls.work, "data"), "--dim", str(DIM), "--index", "HNSW16",
             "--max-k", "100"],
            stderr=cls.log)
        deadline = time.time() + 60
        port = ""
        while not port:
            if cls.process.poll() is not None or time.time() > deadline:
                raise RuntimeError("quarry shard did not start")
            time.sleep(0.02)
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
        cls.channel = grpc.insecure_channel("127.0.0.1:" + port)
        cls.shard = shard_pb2_grpc.ShardStub(cls.channel)
        health = health_pb2_grpc.HealthStub(cls.channel)
        while True:
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.RpcError:
                pass
            if time.time() > deadline:
                raise RuntimeError("quarry shard never became SERVING")
            time.sleep(0.02)

    @classmethod
    def tearDownClass(cls):
        if cls.process.poll() is None:
            cls.process.kill()
            cls.process.wait()
        cls.channel.close()
        cls.log.close()
        shutil.rmtree(cls.work, ignore_errors=True)

    def upsert(self, tenant, doc_id, chunks, seed, groups=()):
        document = types_pb2.Document(id=doc_id, tenant=tenant, title=doc_id.title(),
                                      acl_groups=list(groups))
        document.metadata["lang"].text = "en"
        entry = shard_pb2.DocumentChunks(document=document)
        for ordinal in range(chunks):
            entry.chunks.add(ordinal=ordinal, text=f"{doc_id} part {ordinal}",
                             vector=vector(seed + ordinal))
        return self.shard.Upsert(shard_pb2.UpsertRequest(documents=[entry]), timeout=10)

    def search(self, seed, k, tenant, groups=(), **kwargs):
        request = shard_pb2.SearchRequest(
            vector=vector(seed), k=k, principal=types_pb2.Principal(tenant=tenant,
                                                                    groups=list(groups)),
            **kwargs)
        return self.shard.Search(request, timeout=10)

    def test_a_reflection_lists_the_services(self):
        stub = reflection_pb2_grpc.ServerReflectionStub(self.channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names = set()
        for reply in stub.ServerReflectionInfo(iter([request]), timeout=10):
            names.update(s.name for s in reply.list_services_response.service)
        self.assertIn("quarry.v1.Shard", names)
        self.assertIn("grpc.health.v1.Health", names)

    def test_b_upsert_then_search_finds_the_passage(self):
        reply = self.upsert("acme", "vacuum", 4, 1000)
        self.assertEqual(reply.chunks_written, 4)
        found = self.search(1002, 3, "acme", include_text=True, include_metadata=True)
        self.assertEqual(found.hits[0].doc_id, "vacuum")
        self.assertEqual(found.hits[0].ordinal, 2)
        self.assertEqual(found.hits[0].text, "vacuum part 2")
        self.assertEqual(found.hits[0].title, "Vacuum")
        self.assertEqual(found.hits[0].metadata["lang"].text, "en")
        self.assertAlmostEqual(found.hits[0].score, 1.0, places=4)
        scores = [hit.score for hit in found.hits]
        self.assertEqual(scores, sorted(scores, reverse=True))

    def test_c_acl_is_enforced(self):
        self.upsert("acme", "payroll", 2, 2000, groups=["hr"])
        self.assertNotIn("payroll", [h.doc_id for h in self.search(2000, 10, "acme").hits])
        self.assertNotIn("payroll",
                         [h.doc_id for h in self.search(2000, 10, "acme", ["eng"]).hits])
        self.assertEqual(self.search(2000, 1, "acme", ["hr"]).hits[0].doc_id, "payroll")
        self.assertEqual(len(self.search(2000, 10, "globex", ["hr"]).hits), 0)

    def test_d_bad_input_is_invalid_argument(self):
        with self.assertRaises(grpc.RpcError) as raised:
            self.shard.Search(shard_pb2.SearchRequest(
                vector=[1.0] * (DIM - 1), k=5, principal=types_pb2.Principal(tenant="acme")))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("dimension is 24", raised.exception.details())
        with self.assertRaises(grpc.RpcError) as raised:
            self.search(1, 1000, "acme")
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        bad = shard_pb2.DocumentChunks(document=types_pb2.Document(id="x", tenant="acme"))
        bad.chunks.add(ordinal=0, vector=[math.inf] + [0.0] * (DIM - 1))
        with self.assertRaises(grpc.RpcError) as raised:
            self.shard.Upsert(shard_pb2.UpsertRequest(documents=[bad]))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_e_delete_and_stats(self):
        self.upsert("acme", "temporary", 3, 3000)
        reply = self.shard.Delete(shard_pb2.DeleteRequest(tenant="acme",
                                                          doc_ids=["temporary", "never"]))
        self.assertEqual(reply.documents_deleted, 1)
        self.assertEqual(reply.chunks_deleted, 3)
        self.assertEqual(list(reply.not_found), ["never"])
        self.assertNotIn("temporary", [h.doc_id for h in self.search(3000, 10, "acme").hits])
        stats = self.shard.Stats(shard_pb2.StatsRequest())
        self.assertEqual(stats.dimension, DIM)
        self.assertEqual(stats.index_spec, "HNSW16")
        self.assertGreaterEqual(stats.chunks, 6)

    def test_f_sigterm_exits_cleanly(self):
        self.process.send_signal(signal.SIGTERM)
        self.assertEqual(self.process.wait(timeout=60), 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quarry", required=True)
    args, rest = parser.parse_known_args()
    ShardClientTest.quarry = os.path.abspath(args.quarry)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
