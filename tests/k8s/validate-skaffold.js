// validate-skaffold.js: validates skaffold.yaml against Skaffold's own JSON
// schema for its apiVersion, with ajv 8 (strict: false, because Skaffold's
// schemas carry keywords of their own such as x-intellij-html-description).
//   node validate-skaffold.js SCHEMA_DIR skaffold.yaml [VERSION]
// SCHEMA_DIR holds skaffold-<version>.json, e.g. skaffold-v4beta11.json.
// With VERSION (e.g. v4beta14), the file's content is checked against that
// newer schema instead, as if its apiVersion said so: a field that a newer
// Skaffold dropped or changed would show up.
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const { loadFile } = require('./manifests');

function main(schemaDir, configFile, asVersion) {
  const docs = loadFile(configFile);
  if (docs.length !== 1) {
    throw new Error(`${configFile}: expected one YAML document, found ${docs.length}`);
  }
  const config = docs[0];
  const version = asVersion || String(config.apiVersion || '').replace(/^skaffold\//, '');
  config.apiVersion = `skaffold/${version}`;
  const schemaFile = path.join(schemaDir, `skaffold-${version}.json`);
  if (!fs.existsSync(schemaFile)) {
    throw new Error(`no schema ${schemaFile} for apiVersion ${config.apiVersion}`);
  }
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  if (!validate(config)) {
    for (const err of validate.errors) {
      console.log(`INVALID: ${err.instancePath || '/'} ${err.message} ${JSON.stringify(err.params)}`);
    }
    process.exit(1);
  }
  console.log(`valid: ${configFile} against ${path.basename(schemaFile)}`);
}

try {
  main(process.argv[2], process.argv[3], process.argv[4]);
} catch (err) {
  console.log(`ERROR: ${err.message}`);
  process.exit(1);
}
