// validate-schema.js: validates every object in the given YAML files against
// the Kubernetes OpenAPI schema, as packaged by npm kubernetes-models.
//   node validate-schema.js FILE.yaml...
// kubernetes-models catches wrong types, missing required fields, bad enums
// and bad quantities, but not misspelled field names: checks.js asserts the
// fields we rely on.
'use strict';

const { loadFile } = require('./manifests');

// The kubernetes-models class for an object's apiVersion ("v1", "apps/v1")
// and kind.
function modelFor(obj) {
  let mod;
  try {
    mod = require(`kubernetes-models/${obj.apiVersion}`);
  } catch (err) {
    throw new Error(`no schema for apiVersion ${obj.apiVersion}`);
  }
  if (!mod[obj.kind]) {
    throw new Error(`no schema for ${obj.kind} in ${obj.apiVersion}`);
  }
  return mod[obj.kind];
}

// kubectl's dry-run output carries creationTimestamp: null, which the API
// server accepts but the schema (a date-time string) does not.
function withoutNullTimestamp(obj) {
  const copy = JSON.parse(JSON.stringify(obj));
  if (copy.metadata && copy.metadata.creationTimestamp === null) {
    delete copy.metadata.creationTimestamp;
  }
  return copy;
}

function main(files) {
  let failures = 0;
  let count = 0;
  for (const file of files) {
    for (const obj of loadFile(file)) {
      count += 1;
      const label = `${obj.kind}/${obj.metadata && obj.metadata.name} (${file})`;
      try {
        const Model = modelFor(obj);
        new Model(withoutNullTimestamp(obj)).validate();
        console.log(`valid: ${label}`);
      } catch (err) {
        failures += 1;
        console.log(`INVALID: ${label}: ${err.message}`);
      }
    }
  }
  if (count === 0) {
    console.log('no objects to validate');
    process.exit(1);
  }
  process.exit(failures === 0 ? 0 : 1);
}

main(process.argv.slice(2));
