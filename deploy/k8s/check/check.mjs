// Validates Kubernetes manifests against the API's OpenAPI schemas
// (kubernetes-models), offline. Usage: node check.mjs FILE.yaml...
// Prints each object's kind and name; exits 1 on the first invalid one.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const models = {
  "v1/ConfigMap": () => import("kubernetes-models/v1/ConfigMap"),
  "v1/Service": () => import("kubernetes-models/v1/Service"),
  "apps/v1/StatefulSet": () => import("kubernetes-models/apps/v1/StatefulSet"),
};

let failed = false;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) {
      console.error(`${file}: YAML: ${doc.errors[0].message}`);
      failed = true;
      continue;
    }
    const object = doc.toJS();
    if (object === null) continue;
    const key = `${object.apiVersion}/${object.kind}`;
    const load = models[key];
    if (!load) {
      console.error(`${file}: no schema for ${key} here`);
      failed = true;
      continue;
    }
    const mod = await load();
    const Model = mod.default ?? mod[object.kind];
    try {
      new Model(object).validate();
      console.log(`${file}: ${key} ${object.metadata?.name}: valid`);
    } catch (error) {
      console.error(`${file}: ${key} ${object.metadata?.name}: ${error.message}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
