#!/usr/bin/python3
"""Offline checks of deploy/: the container image and the Kubernetes manifests.

No cluster is needed. The checks: yamllint over deploy/; the committed output of
deploy/k8s/generate is what the generator writes now; `kubectl kustomize` renders every
overlay; every rendered object validates against the Kubernetes API schemas, unknown fields
included (and the validator rejects a broken object); the router's topology lists exactly the
StatefulSets' pods by their DNS names and the shard Service's port; probe, container and
Service ports agree and metrics ports are the gRPC port + 1000; only router and answer pods
reach the shards; each shard has its PodDisruptionBudget and anti-affinity; pods run locked
down; the configuration names only options the binary has; the image's runtime stage installs
every library the binary loads; and the image's entrypoint, run on the built binary, prints the
help.

Usage: check_deploy.py --quarry PATH/TO/quarry [unittest options]
"""

import argparse
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
NPM_DIR = os.environ.get("QUARRY_NPM_DIR", "/usr/local/share/quarry/npm")
KUBECTL = shutil.which("kubectl")
KUBECTL_ABSENT = "kubectl is not installed, so no overlay was rendered or checked"
# Exit status that CTest reports as a skipped test (SKIP_RETURN_CODE in tests/CMakeLists.txt).
EXIT_SKIPPED = 77
TIMEOUT = 60
QUARRY = None  # Set from --quarry.


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


def generator_args(overlay):
    """The arguments deploy/k8s/generate was run with, from the header of its output."""
    header = (K8S / "overlays" / overlay / "generated" / "shards.yaml").read_text().splitlines()[0]
    match = re.fullmatch(r"# Written by deploy/k8s/generate (.*); do not edit\.", header)
    if not match:
        raise AssertionError(f"{overlay}: generated/shards.yaml has no generator header")
    return shlex.split(match.group(1))


def option(args, name):
    return args[args.index(name) + 1]


RENDERED = {}


def rendered(overlay):
    """The objects of an overlay as `kubectl kustomize` renders them."""
    if overlay not in RENDERED:
        result = run([KUBECTL, "kustomize", str(K8S / "overlays" / overlay)])
        if result.returncode != 0:
            raise AssertionError(f"kubectl kustomize {overlay} failed:\n{result.stderr}")
        RENDERED[overlay] = [o for o in yaml.safe_load_all(result.stdout) if o]
    return RENDERED[overlay]


def of_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def named(objects, kind, name):
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind} {name}, found {len(found)}")
    return found[0]


def component(obj):
    return obj["metadata"]["labels"]["app.kubernetes.io/component"]


def workloads(objects):
    return of_kind(objects, "StatefulSet") + of_kind(objects, "Deployment")


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def validate(objects):
    """Runs deploy/k8s/validate.mjs on the objects; returns (exit code, output)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(objects, f)
        f.flush()
        result = run(["node", str(K8S / "validate.mjs"), f.name],
                     env={**os.environ, "QUARRY_NPM_DIR": NPM_DIR})
    return result.returncode, result.stdout + result.stderr


class Sources(unittest.TestCase):
    """Checks of the files themselves; no kubectl needed."""

    def test_yamllint_passes(self):
        result = run(["yamllint", "--strict", "-c", str(DEPLOY / ".yamllint.yaml"), str(DEPLOY)])
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_generated_files_are_the_generators_output(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay), tempfile.TemporaryDirectory() as out:
                result = run([str(K8S / "generate"), *generator_args(overlay), out])
                self.assertEqual(result.returncode, 0, result.stderr)
                for name in ("shards.yaml", "topology.yaml"):
                    committed = K8S / "overlays" / overlay / "generated" / name
                    self.assertEqual(
                        committed.read_text(), (pathlib.Path(out) / name).read_text(),
                        f"{committed} is stale: run deploy/k8s/generate "
                        f"{' '.join(generator_args(overlay))} {committed.parent}")

    def test_validator_rejects_unknown_fields_and_wrong_types(self):
        objects = [o for o in yaml.safe_load_all(
            (K8S / "overlays" / "prod" / "generated" / "shards.yaml").read_text()) if o]
        code, output = validate(objects)
        self.assertEqual(code, 0, output)

        statefulset = objects[0]
        container = statefulset["spec"]["template"]["spec"]["containers"][0]
        container["readinessProbe"]["grpc"]["servce"] = "quarry"
        statefulset["spec"]["replica"] = 2
        code, output = validate([statefulset])
        self.assertEqual(code, 1, output)
        self.assertIn("unknown field /spec/template/spec/containers/0/readinessProbe/grpc/servce",
                      output)
        self.assertIn("unknown field /spec/replica", output)

        container["readinessProbe"]["grpc"]["port"] = "seven"
        code, output = validate([statefulset])
        self.assertEqual(code, 1, output)
        self.assertIn("readinessProbe/grpc/port", output)

    def test_image_entrypoint_prints_help(self):
        dockerfile = (DEPLOY / "Dockerfile").read_text()
        final_stage = dockerfile.split("\nFROM ")[-1]
        entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", final_stage, re.M).group(1))
        cmd = json.loads(re.search(r"^CMD (\[.*\])$", final_stage, re.M).group(1))
        copied = re.findall(r"^COPY --from=build \S+ (\S+)$", final_stage, re.M)
        self.assertIn(entrypoint[0], copied, "the entrypoint is not a binary the image copies")
        user = re.search(r"^USER (\d+):(\d+)$", final_stage, re.M)
        self.assertTrue(user and int(user.group(1)) != 0, "the image does not run as non-root")

        result = run([QUARRY, *entrypoint[1:], *cmd])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Subcommands:", result.stdout)


    def test_runtime_image_has_every_library_the_binary_loads(self):
        if shutil.which("dpkg-query") is None:
            self.skipTest("dpkg-query is absent: not a Debian machine")
        final_stage = (DEPLOY / "Dockerfile").read_text().split("\nFROM ")[-1]
        install = re.search(r"apt-get install (.*?)\s*&&", final_stage, re.S).group(1)
        listed = {w for w in install.replace("\\", " ").split() if not w.startswith("-")}

        # Everything the listed packages pull in, from this machine's package database.
        depends = {}
        for line in run(["dpkg-query", "-W", "-f=${Package}\t${Depends}, ${Pre-Depends}\n"]
                        ).stdout.splitlines():
            name, _, deps = line.partition("\t")
            alternatives = re.split(r"[,|]", deps)
            depends[name] = {d.split()[0].split(":")[0] for d in alternatives if d.strip()}
        closure, pending = set(), list(listed)
        while pending:
            package = pending.pop()
            if package not in closure:
                closure.add(package)
                pending.extend(depends.get(package, ()))

        # A library's owner is found under the name ldd gives or its real path, with or
        # without the /usr prefix (Debian 12 merges /lib into /usr/lib).
        libraries = re.findall(r"=> (/\S+)", run(["ldd", QUARRY]).stdout)
        self.assertTrue(libraries, "ldd lists no libraries")
        names = {lib: [n for path in (lib, os.path.realpath(lib))
                       for n in (path, "/usr" + path)] for lib in libraries}
        owners = {}
        for line in run(["dpkg", "-S", *{n for ns in names.values() for n in ns}]
                        ).stdout.splitlines():
            packages, _, path = line.partition(": ")
            owners[path] = packages.split(",")[0].split(":")[0]
        for library, candidates in names.items():
            package = next((owners[n] for n in candidates if n in owners), None)
            self.assertIsNotNone(package, f"no Debian package holds {library}")
            self.assertTrue(package in closure,
                            f"{library} ({package}) is not in the image's runtime stage")


class Rendered(unittest.TestCase):
    """Checks of what `kubectl kustomize` renders for every overlay."""

    @classmethod
    def setUpClass(cls):
        if KUBECTL is None:
            print(f"SKIP: {KUBECTL_ABSENT}", file=sys.stderr)
            raise unittest.SkipTest(KUBECTL_ABSENT)

    def test_every_object_validates_against_the_schema(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                code, output = validate(rendered(overlay))
                self.assertEqual(code, 0, output)

    def test_shards_and_replicas_are_the_generators(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                args = generator_args(overlay)
                objects = rendered(overlay)
                shards, replicas = int(option(args, "--shards")), int(option(args, "--replicas"))
                statefulsets = of_kind(objects, "StatefulSet")
                self.assertEqual(sorted(s["metadata"]["name"] for s in statefulsets),
                                 sorted(f"quarry-shard-{i}" for i in range(shards)))
                for s in statefulsets:
                    self.assertEqual(s["spec"]["replicas"], replicas)
                    self.assertEqual(s["metadata"]["namespace"], option(args, "--namespace"))

    def test_topology_lists_the_statefulset_pods(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                objects = rendered(overlay)
                router = named(objects, "Deployment", "quarry-router")
                pod = router["spec"]["template"]["spec"]
                volume = next(v for v in pod["volumes"] if v["name"] == "topology")
                mount = next(m for m in pod["containers"][0]["volumeMounts"]
                             if m["name"] == "topology")
                config_map = named(objects, "ConfigMap", volume["configMap"]["name"])
                self.assertIn("topology.yaml", config_map["data"])
                router_config = yaml.safe_load(self.config_file(objects, pod, "router.yaml"))
                self.assertEqual(router_config["topology"], f"{mount['mountPath']}/topology.yaml")

                topology = yaml.safe_load(config_map["data"]["topology.yaml"])
                service = named(objects, "Service", "quarry-shard")
                grpc_port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "grpc")
                expected = []
                for shard in range(len(of_kind(objects, "StatefulSet"))):
                    s = named(objects, "StatefulSet", f"quarry-shard-{shard}")
                    self.assertEqual(s["spec"]["serviceName"], service["metadata"]["name"])
                    self.assertTrue(selects(service["spec"]["selector"],
                                            s["spec"]["template"]["metadata"]["labels"]))
                    namespace = s["metadata"]["namespace"]
                    expected.append({"replicas": [
                        f"{s['metadata']['name']}-{r}.{s['spec']['serviceName']}.{namespace}"
                        f".svc.cluster.local:{grpc_port}" for r in range(s["spec"]["replicas"])]})
                self.assertEqual(topology, {"shards": expected})

    def test_shard_service_is_headless_and_publishes_unready_pods(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                service = named(rendered(overlay), "Service", "quarry-shard")
                self.assertEqual(service["spec"]["clusterIP"], "None")
                self.assertIs(service["spec"]["publishNotReadyAddresses"], True)

    def test_shard_id_pdb_and_anti_affinity_follow_the_statefulset(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                objects = rendered(overlay)
                for s in of_kind(objects, "StatefulSet"):
                    shard = s["metadata"]["name"].removeprefix("quarry-shard-")
                    pod = s["spec"]["template"]
                    self.assertEqual(pod["metadata"]["labels"]["quarry.io/shard"], shard)
                    self.assertIn(f"--shard-id={shard}", pod["spec"]["containers"][0]["args"])

                    terms = pod["spec"]["affinity"]["podAntiAffinity"][
                        "requiredDuringSchedulingIgnoredDuringExecution"]
                    self.assertEqual(len(terms), 1)
                    self.assertEqual(terms[0]["topologyKey"], "kubernetes.io/hostname")
                    self.assertEqual(terms[0]["labelSelector"]["matchLabels"]["quarry.io/shard"],
                                     shard)

                    pdb = named(objects, "PodDisruptionBudget", s["metadata"]["name"])
                    selector = pdb["spec"]["selector"]["matchLabels"]
                    self.assertEqual(selector, s["spec"]["selector"]["matchLabels"])
                    self.assertEqual(pdb["spec"]["maxUnavailable"], 1)

    def test_probe_ports_are_container_and_service_ports(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                objects = rendered(overlay)
                for w in workloads(objects):
                    container = w["spec"]["template"]["spec"]["containers"][0]
                    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
                    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                        self.assertEqual(container[probe]["grpc"]["port"], ports["grpc"],
                                         f"{w['metadata']['name']} {probe}")
                    service = self.service_of(objects, w)
                    for p in service["spec"]["ports"]:
                        self.assertEqual(p["port"], ports[p["targetPort"]],
                                         f"{service['metadata']['name']} port {p['name']}")
                    self.assertEqual({p["name"] for p in service["spec"]["ports"]},
                                     {"grpc", "metrics"})

    def test_metrics_ports_are_grpc_port_plus_1000_and_scraped(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                objects = rendered(overlay)
                monitors = of_kind(objects, "ServiceMonitor")
                self.assertEqual(len(monitors), 1)
                monitor = monitors[0]["spec"]
                self.assertEqual([e["port"] for e in monitor["endpoints"]], ["metrics"])
                for w in workloads(objects):
                    service = self.service_of(objects, w)
                    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
                    self.assertEqual(ports["metrics"], ports["grpc"] + 1000)
                    labels = service["metadata"]["labels"]
                    self.assertTrue(selects(monitor["selector"]["matchLabels"], labels))
                    expression = monitor["selector"]["matchExpressions"][0]
                    self.assertIn(labels[expression["key"]], expression["values"])

    def test_only_router_and_answer_pods_reach_shards(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                objects = rendered(overlay)
                shard_labels = named(objects, "StatefulSet", "quarry-shard-0")[
                    "spec"]["template"]["metadata"]["labels"]
                policies = [p for p in of_kind(objects, "NetworkPolicy")
                            if selects(p["spec"]["podSelector"].get("matchLabels", {}),
                                       shard_labels)]
                self.assertEqual({p["metadata"]["name"] for p in policies},
                                 {"quarry-default-deny", "quarry-shard"})
                grpc_sources = []
                for p in policies:
                    self.assertIn("Ingress", p["spec"]["policyTypes"])
                    for rule in p["spec"].get("ingress", []):
                        ports = {port["port"] for port in rule["ports"]}
                        self.assertTrue(rule.get("from"), "a shard ingress rule admits anyone")
                        if 7310 in ports:
                            grpc_sources += rule["from"]
                        else:
                            self.assertEqual(ports, {8310})
                self.assertEqual(
                    sorted(s["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                           for s in grpc_sources), ["answer", "router"])
                for source in grpc_sources:
                    self.assertEqual(set(source), {"podSelector"})

    def test_pods_run_locked_down(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                for w in workloads(rendered(overlay)):
                    pod = w["spec"]["template"]["spec"]
                    name = w["metadata"]["name"]
                    self.assertIs(pod["securityContext"]["runAsNonRoot"], True, name)
                    self.assertEqual(pod["securityContext"]["seccompProfile"]["type"],
                                     "RuntimeDefault", name)
                    for c in pod["containers"]:
                        context = c["securityContext"]
                        self.assertIs(context["readOnlyRootFilesystem"], True, name)
                        self.assertIs(context["allowPrivilegeEscalation"], False, name)
                        self.assertEqual(context["capabilities"]["drop"], ["ALL"], name)
                        for kind in ("requests", "limits"):
                            self.assertEqual(set(c["resources"][kind]), {"cpu", "memory"}, name)
                        self.assertNotIn("command", c, "the image's entrypoint runs quarry")

    def test_configuration_names_options_the_binary_has(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                objects = rendered(overlay)
                for w in workloads(objects):
                    pod = w["spec"]["template"]["spec"]
                    args = pod["containers"][0]["args"]
                    subcommand = args[0]
                    # --config is the top-level option every subcommand also takes.
                    help_text = run([QUARRY, subcommand, "--help"]).stdout + run(
                        [QUARRY, "--help"]).stdout
                    known = set(re.findall(r"^  (?:-\w,)?--([\w-]+)", help_text, re.M))
                    flags = [a.removeprefix("--").split("=")[0] for a in args[1:]]
                    config = yaml.safe_load(self.config_file(objects, pod, f"{subcommand}.yaml"))
                    for name in [*flags, *config]:
                        self.assertIn(name, known, f"quarry {subcommand} has no --{name}")

    def test_router_and_answer_scale_and_keep_one_up(self):
        for overlay in OVERLAYS:
            with self.subTest(overlay=overlay):
                objects = rendered(overlay)
                for name in ("quarry-router", "quarry-answer"):
                    hpa = named(objects, "HorizontalPodAutoscaler", name)
                    self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], name)
                    pdb = named(objects, "PodDisruptionBudget", name)
                    labels = named(objects, "Deployment", name)["spec"]["template"]["metadata"][
                        "labels"]
                    self.assertTrue(selects(pdb["spec"]["selector"]["matchLabels"], labels))

    @staticmethod
    def service_of(objects, workload):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        services = [s for s in of_kind(objects, "Service")
                    if selects(s["spec"]["selector"], labels)]
        if len(services) != 1:
            raise AssertionError(f"{workload['metadata']['name']}: {len(services)} Services")
        return services[0]

    @staticmethod
    def config_file(objects, pod, name):
        volume = next(v for v in pod["volumes"] if v["name"] == "config")
        return named(objects, "ConfigMap", volume["configMap"]["name"])["data"][name]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quarry", required=True)
    known, rest = parser.parse_known_args()
    QUARRY = known.quarry
    outcome = unittest.main(argv=[sys.argv[0], *rest], verbosity=2, exit=False).result
    if not outcome.wasSuccessful():
        sys.exit(1)
    sys.exit(EXIT_SKIPPED if outcome.skipped else 0)
