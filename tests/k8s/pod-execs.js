// pod-execs.js: prints what a workload's pod template would run inside its
// containers, for tests/kube.bats: one line per exec handler (lifecycle hooks
// and probes), then the first container's preStop hook as JSON. The backend
// image has no shell, sleep or any program but its own, so its pod spec must
// exec nothing.
//
//   node pod-execs.js RENDERED_YAML KIND NAME
'use strict';

const m = require('./manifests');

const HANDLERS = ['lifecycle.postStart', 'lifecycle.preStop', 'startupProbe', 'livenessProbe', 'readinessProbe'];

// The handler at a dotted path of a container spec, or undefined.
function handlerAt(container, dotted) {
  return dotted.split('.').reduce((obj, key) => (obj ? obj[key] : undefined), container);
}

function main([file, kind, name]) {
  const workload = m.find(m.loadFile(file), kind, name);
  const containers = workload.spec.template.spec.containers;
  for (const container of containers) {
    for (const dotted of HANDLERS) {
      const handler = handlerAt(container, dotted);
      if (handler && handler.exec) {
        console.log(`exec ${container.name} ${dotted}: ${JSON.stringify(handler.exec.command)}`);
      }
    }
  }
  console.log(`preStop ${JSON.stringify(handlerAt(containers[0], 'lifecycle.preStop') || null)}`);
}

main(process.argv.slice(2));
