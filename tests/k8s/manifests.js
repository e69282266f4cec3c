// manifests.js: reads rendered Kubernetes YAML and answers the questions the
// checks ask of it (which object, which pod template, do labels match).
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

// Every non-empty document in the YAML file, as plain objects.
function loadFile(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) {
        throw new Error(`${file}: ${doc.errors[0].message}`);
      }
      return doc.toJS();
    })
    .filter((obj) => obj !== null && obj !== undefined);
}

// The objects a render directory holds: app.yaml (k8s/), namespace.yaml
// (k8s/namespace/) and secrets.yaml (what the secret scripts print).
function loadRender(dir) {
  const part = (name) => loadFile(path.join(dir, name));
  return {
    app: part('app.yaml'),
    namespace: part('namespace.yaml'),
    secrets: part('secrets.yaml'),
    controller: part('controller-config.yaml'),
  };
}

// All objects of a render, as one list.
function allObjects(render) {
  return [...render.app, ...render.namespace, ...render.secrets];
}

// The objects of the given kind.
function ofKind(objects, kind) {
  return objects.filter((obj) => obj.kind === kind);
}

// The one object of this kind and name; throws when it is missing.
function find(objects, kind, name) {
  const found = objects.find((obj) => obj.kind === kind && obj.metadata.name === name);
  if (!found) {
    throw new Error(`no ${kind} named ${name} among the rendered objects`);
  }
  return found;
}

// The workloads (Deployment, StatefulSet) with their pod templates.
function workloads(objects) {
  return objects.filter((obj) => ['Deployment', 'StatefulSet'].includes(obj.kind));
}

// True when every key/value of the selector's matchLabels (or plain map) is
// among the labels. An empty selector matches nothing here, on purpose.
function selects(selector, labels) {
  const wanted = (selector && selector.matchLabels) || selector || {};
  const keys = Object.keys(wanted);
  if (selector && selector.matchExpressions) {
    throw new Error('matchExpressions are not supported by these checks');
  }
  return keys.length > 0 && keys.every((key) => (labels || {})[key] === wanted[key]);
}

// The workloads whose pod labels the selector matches.
function workloadsSelectedBy(objects, selector) {
  return workloads(objects).filter((w) => selects(selector, w.spec.template.metadata.labels));
}

// The container of a workload's pod template with this name (default: the first).
function container(workload, name) {
  const containers = workload.spec.template.spec.containers;
  const found = name ? containers.find((c) => c.name === name) : containers[0];
  if (!found) {
    throw new Error(`${workload.kind} ${workload.metadata.name} has no container ${name}`);
  }
  return found;
}

// The container port with this name or number, or undefined.
function containerPort(c, port) {
  return (c.ports || []).find((p) => p.name === port || p.containerPort === port);
}

// The decoded value of a Secret's key, or undefined.
function secretValue(secret, key) {
  if (secret.stringData && key in secret.stringData) {
    return secret.stringData[key];
  }
  if (secret.data && key in secret.data) {
    return Buffer.from(String(secret.data[key]).replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return undefined;
}

module.exports = {
  loadFile,
  loadRender,
  allObjects,
  ofKind,
  find,
  workloads,
  selects,
  workloadsSelectedBy,
  container,
  containerPort,
  secretValue,
};
