// ingress-host.js: prints the host of the Ingress "bitcoin" in a rendered
// YAML file, so that the test certificate is made for exactly that host.
//   node ingress-host.js app.yaml
'use strict';

const m = require('./manifests');

const ingress = m.find(m.loadFile(process.argv[2]), 'Ingress', 'bitcoin');
console.log(ingress.spec.rules[0].host);
