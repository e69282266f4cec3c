// sbom-check.js: reads the image's SBOM (CycloneDX 1.5 JSON) for
// tests/image.bats.
//
//   node sbom-check.js validate SBOM     checks it against the CycloneDX 1.5
//                                        JSON schema (with the SPDX and JSF
//                                        schemas it refers to), as published
//                                        in @cyclonedx/cyclonedx-library;
//                                        prints the errors, exits 1 on any
//   node sbom-check.js packages SBOM     prints "NAME VERSION PURL" for each
//                                        Debian package (pkg:deb purl)
//   node sbom-check.js locations SBOM    prints "LOCATION NAME" for each
//                                        evidence occurrence of a component
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');
const addDraft2019Formats = require('ajv-formats-draft2019');

const SCHEMA_DIR = path.join(path.dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')),
  'res', 'schema');

// The SBOM file as an object.
function load(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// The JSON schema file of that name, in the package's schema directory.
function schema(name) {
  return JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, name), 'utf8'));
}

// The bom schema refers to the others by file name, relative to its own $id.
function withId(name) {
  return { ...schema(name), $id: `http://cyclonedx.org/schema/${name}` };
}

// Validates the SBOM against the schema.
function validate(bom) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  addDraft2019Formats(ajv);
  ajv.addSchema(withId('spdx.SNAPSHOT.schema.json'));
  ajv.addSchema(withId('jsf-0.82.SNAPSHOT.schema.json'));
  const check = ajv.compile(schema('bom-1.5.SNAPSHOT.schema.json'));
  if (bom.specVersion !== '1.5' || bom.bomFormat !== 'CycloneDX') {
    console.log(`not CycloneDX 1.5: bomFormat ${bom.bomFormat}, specVersion ${bom.specVersion}`);
    return false;
  }
  if (!check(bom)) {
    for (const error of check.errors) console.log(`${error.instancePath || '/'} ${error.message}`);
    return false;
  }
  return true;
}

function main([command, file]) {
  const bom = load(file);
  const components = bom.components || [];
  if (command === 'validate') {
    process.exitCode = validate(bom) ? 0 : 1;
  } else if (command === 'packages') {
    for (const c of components.filter((x) => (x.purl || '').startsWith('pkg:deb/'))) {
      console.log(`${c.name} ${c.version} ${c.purl}`);
    }
  } else if (command === 'locations') {
    for (const c of components) {
      for (const o of ((c.evidence || {}).occurrences || [])) console.log(`${o.location} ${c.name}`);
    }
  } else {
    console.error('usage: sbom-check.js validate|packages|locations SBOM');
    process.exitCode = 2;
  }
}

main(process.argv.slice(2));
