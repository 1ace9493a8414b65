// Validates Kubernetes objects against the API schemas of the npm package kubernetes-models
// (and @kubernetes-models/prometheus-operator for ServiceMonitor).
//
// Usage: node validate.mjs FILE.json
//   FILE.json holds a JSON array of objects (rendered manifests converted to JSON).
// Prints one line per problem and exits 1 when there is any, 0 otherwise.
//
// Each object is loaded into the class of its apiVersion and kind and validate() is called.
// Those validators accept fields the schema does not declare, so a second, strict pass runs
// the same validator over a view of the object that records every property it reads: a
// property the validator never read is one the schema does not know, and is reported. Maps
// (labels, ConfigMap data) are read key by key, so their keys count as known.
//
// The packages are looked up in $QUARRY_NPM_DIR/node_modules (default
// /usr/local/share/quarry/npm), where scripts/bootstrap installs them.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const npmDir = process.env.QUARRY_NPM_DIR ?? "/usr/local/share/quarry/npm";
const modules = join(npmDir, "node_modules");

// The module holding the class of an apiVersion: core and built-in groups in kubernetes-models,
// Prometheus Operator kinds in their own package.
function modulePath(apiVersion, kind) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return join(modules, "@kubernetes-models/prometheus-operator", apiVersion, `${kind}.js`);
  }
  return join(modules, "kubernetes-models", apiVersion, `${kind}.js`);
}

// Wraps value so that every property read is recorded in `read` under its JSON path.
function tracked(value, path, read) {
  if (value === null || typeof value !== "object") return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== "string" || !Object.hasOwn(target, key)) return child;
      const childPath = `${path}/${key}`;
      read.add(childPath);
      return tracked(child, childPath, read);
    },
  });
}

// Paths of every property of value that is not in read.
function unread(value, path, read, out) {
  if (value === null || typeof value !== "object") return out;
  for (const key of Object.keys(value)) {
    const childPath = `${path}/${key}`;
    if (!read.has(childPath)) {
      out.push(childPath);
      continue;
    }
    unread(value[key], childPath, read, out);
  }
  return out;
}

async function problemsOf(object) {
  const name = `${object?.kind ?? "?"}/${object?.metadata?.name ?? "?"}`;
  if (typeof object?.apiVersion !== "string" || typeof object?.kind !== "string") {
    return [`${name}: no apiVersion or kind`];
  }
  let Model;
  try {
    Model = (await import(pathToFileURL(modulePath(object.apiVersion, object.kind))))[object.kind];
  } catch (e) {
    return [`${name}: no schema for ${object.apiVersion} ${object.kind} (${e.code ?? e.message})`];
  }

  const model = new Model(object);
  try {
    model.validate();
  } catch (e) {
    return [`${name}: ${e.message}`];
  }

  const plain = JSON.parse(JSON.stringify(object));
  const read = new Set();
  Model.prototype.validate.call(tracked(plain, "", read));
  return unread(plain, "", read, []).map((path) => `${name}: unknown field ${path}`);
}

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
let problems = 0;
for (const object of objects) {
  for (const problem of await problemsOf(object)) {
    console.log(problem);
    problems++;
  }
}
console.log(`${objects.length} objects, ${problems} problems`);
process.exit(problems ? 1 : 0);
