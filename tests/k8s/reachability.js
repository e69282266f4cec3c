// reachability.js: which pod may open a connection to which, on which port
// and protocol, under the NetworkPolicies of a render (see
// manifests.loadRender). It follows the NetworkPolicy rules of the
// Kubernetes documentation (concepts/services-networking/network-policies):
//   - a policy applies to the pods of its namespace that its podSelector
//     selects (an empty selector selects them all);
//   - policyTypes says which directions it isolates; when absent, Ingress
//     always, and Egress when the policy has egress rules;
//   - a pod selected for a direction by any policy refuses every connection
//     in that direction that no rule of those policies allows (the union of
//     the policies; none can take away what another allows); a pod that no
//     policy selects for a direction allows everything in it;
//   - a connection needs both the source's egress and the destination's
//     ingress to allow it;
//   - a rule allows a peer when any of its from/to entries matches (a missing
//     or empty list matches everyone) on any of its ports (likewise);
//   - a peer's podSelector alone means pods of the policy's namespace; its
//     namespaceSelector alone, every pod of the selected namespaces; both in
//     one entry, the selected pods of the selected namespaces; an ipBlock,
//     addresses in its CIDR but not in its exceptions;
//   - a port is a number (up to endPort, if given) or a container port's
//     name, looked up on the destination pod, with its protocol (TCP unless
//     stated).
// ipBlock is matched against pod addresses too: what a CNI does there is
// undefined, so this errs on the side of allowing, never of hiding a path.
// Traffic from a pod's own node (the kubelet's probes) is always allowed and
// is not modelled; neither is traffic a pod sends to itself.
//
//   node reachability.js allowed RENDER_DIR      every allowed connection
//   node reachability.js query RENDER_DIR 'SRC DST PORT/PROTO'...
//   node reachability.js selftest                the rules above, on examples
'use strict';

const m = require('./manifests');

const NAMESPACE = 'devops-2025';

// The label Kubernetes sets on every namespace, to its name (v1.22 and later).
const NAME_LABEL = 'kubernetes.io/metadata.name';

// Ports an attacker would try (ssh, http, https, the webhook's, ntp).
// Every pair of endpoints is tried on these, on each pod's own, and on every
// port a rule names (probedPorts), so a rule that opens an unusual port is
// seen whatever the port.
const ATTACKER_PORTS = [
  ['TCP', 22], ['TCP', 53], ['TCP', 80], ['TCP', 443], ['TCP', 6379],
  ['TCP', 6380], ['TCP', 8080], ['TCP', 8443], ['UDP', 53], ['UDP', 123],
];

// Hosts outside the cluster: documentation ranges, public resolvers, the
// minikube host and a private address. An ipBlock adds one of its own
// addresses (internetHosts), so a rule that opens any range is seen.
const INTERNET_IPS = ['203.0.113.10', '198.51.100.1', '1.1.1.1', '8.8.8.8', '192.168.49.1', '10.0.0.1'];

// True when the label selector (matchLabels and matchExpressions) selects
// the labels; an empty selector selects everything.
function selects(selector, labels) {
  const have = labels || {};
  const byLabels = Object.entries((selector && selector.matchLabels) || {})
    .every(([key, value]) => have[key] === value);
  const byExpressions = ((selector && selector.matchExpressions) || []).every((e) => {
    const present = Object.prototype.hasOwnProperty.call(have, e.key);
    switch (e.operator) {
      case 'In': return present && e.values.includes(have[e.key]);
      case 'NotIn': return !(present && e.values.includes(have[e.key]));
      case 'Exists': return present;
      case 'DoesNotExist': return !present;
      default: throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
  return byLabels && byExpressions;
}

// The IPv4 address a.b.c.d as a number.
function ipNumber(ip) {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

// True when the IPv4 address lies in the CIDR a.b.c.d/n.
function inCidr(ip, cidr) {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNumber(ip) / size) === Math.floor(ipNumber(base) / size);
}

// True when the from/to entry matches the endpoint, for a policy of namespace ns.
function peerMatches(peer, endpoint, ns, namespaces) {
  if (peer.ipBlock) {
    return inCidr(endpoint.ip, peer.ipBlock.cidr)
      && !(peer.ipBlock.except || []).some((c) => inCidr(endpoint.ip, c));
  }
  if (!peer.podSelector && !peer.namespaceSelector) {
    throw new Error(`a from/to entry with no selector and no ipBlock: ${JSON.stringify(peer)}`);
  }
  if (!endpoint.namespace) return false;
  const inNamespace = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaces[endpoint.namespace])
    : endpoint.namespace === ns;
  return inNamespace && (!peer.podSelector || selects(peer.podSelector, endpoint.labels));
}

// True when the rule's port entry covers port/protocol on the destination.
function portMatches(entry, dst, port, protocol) {
  if ((entry.protocol || 'TCP') !== protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'string') {
    const named = (dst.ports || []).find((p) => p.name === entry.port && (p.protocol || 'TCP') === protocol);
    return Boolean(named) && named.containerPort === port;
  }
  return port >= entry.port && port <= (entry.endPort || entry.port);
}

// True when the rule (an ingress or egress entry) allows the peer endpoint,
// to port/protocol on dst.
function ruleAllows(rule, peers, peer, dst, port, protocol, ns, namespaces) {
  const list = rule[peers] || [];
  const peerOk = list.length === 0 || list.some((p) => peerMatches(p, peer, ns, namespaces));
  const ports = rule.ports || [];
  return peerOk && (ports.length === 0 || ports.some((e) => portMatches(e, dst, port, protocol)));
}

// The policy types a policy isolates (its policyTypes, or the default).
function policyTypes(policy) {
  if (policy.spec.policyTypes) return policy.spec.policyTypes;
  return policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

// The policies that select the endpoint for direction type.
function selecting(policies, endpoint, type) {
  return policies.filter((p) => endpoint.namespace === p.metadata.namespace
    && policyTypes(p).includes(type)
    && selects(p.spec.podSelector, endpoint.labels));
}

// True when src may open a connection to port/protocol on dst.
function allowed(world, src, dst, port, protocol) {
  const { policies, namespaces } = world;
  const egress = selecting(policies, src, 'Egress');
  const egressOk = egress.length === 0 || egress.some((p) => (p.spec.egress || [])
    .some((r) => ruleAllows(r, 'to', dst, dst, port, protocol, p.metadata.namespace, namespaces)));
  const ingress = selecting(policies, dst, 'Ingress');
  const ingressOk = ingress.length === 0 || ingress.some((p) => (p.spec.ingress || [])
    .some((r) => ruleAllows(r, 'from', src, dst, port, protocol, p.metadata.namespace, namespaces)));
  return egressOk && ingressOk;
}

// A pod of a rendered workload, as an endpoint.
function workloadEndpoint(workload, ip) {
  const pod = workload.spec.template;
  return {
    name: `${workload.metadata.namespace}/${workload.metadata.name}`,
    namespace: workload.metadata.namespace,
    labels: pod.metadata.labels,
    ports: pod.spec.containers.flatMap((c) => c.ports || []),
    ip,
  };
}

// The rules of every policy, ingress and egress.
function allRules(policies) {
  return policies.flatMap((p) => [...(p.spec.ingress || []), ...(p.spec.egress || [])]);
}

// Every [protocol, port] to try: ATTACKER_PORTS, the endpoints' own ports,
// and each numbered port of a rule with the ends of its range; sorted, once each.
function probedPorts(policies, endpoints) {
  const ports = [...ATTACKER_PORTS];
  for (const e of endpoints) {
    for (const p of e.ports) ports.push([p.protocol || 'TCP', p.containerPort]);
  }
  for (const entry of allRules(policies).flatMap((r) => r.ports || [])) {
    if (typeof entry.port !== 'number') continue;
    ports.push([entry.protocol || 'TCP', entry.port]);
    if (entry.endPort) ports.push([entry.protocol || 'TCP', entry.endPort]);
  }
  const unique = new Map(ports.map(([protocol, port]) => [`${port}/${protocol}`, [protocol, port]]));
  return [...unique.values()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
}

// The address after the network address of an IPv4 CIDR, as a.b.c.d.
function firstHost(cidr) {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const n = Math.floor(ipNumber(base) / size) * size + (size > 1 ? 1 : 0);
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

// Internet hosts: INTERNET_IPS and the first host of every ipBlock CIDR and
// exception the policies name.
function internetHosts(policies) {
  const ips = new Set(INTERNET_IPS);
  for (const peer of allRules(policies).flatMap((r) => [...(r.from || []), ...(r.to || [])])) {
    if (!peer.ipBlock) continue;
    ips.add(firstHost(peer.ipBlock.cidr));
    (peer.ipBlock.except || []).forEach((c) => ips.add(firstHost(c)));
  }
  return [...ips].map((ip) => ({ name: `internet/${ip}`, ip, labels: {}, ports: [] }));
}

// The cluster the render lands in: its workloads' pods and namespace, and
// the pods around them on minikube, with the labels they carry there
// (ingress-nginx: minikube's deploy/addons/ingress/ingress-deploy.yaml.tmpl;
// CoreDNS: kubeadm's k8s-app=kube-dns), plus strangers: a pod anyone starts
// in the namespace; in another namespace, pods wearing the labels of the
// backend, of Redis and of CoreDNS (with their ports); and hosts on the
// internet.
function clusterWorld(render) {
  const namespaceObject = m.find(render.namespace, 'Namespace', NAMESPACE);
  const namespaces = {
    [NAMESPACE]: { ...namespaceObject.metadata.labels, [NAME_LABEL]: NAMESPACE },
    'ingress-nginx': { 'app.kubernetes.io/name': 'ingress-nginx', [NAME_LABEL]: 'ingress-nginx' },
    'kube-system': { [NAME_LABEL]: 'kube-system' },
    default: { [NAME_LABEL]: 'default' },
  };
  const backend = m.find(render.app, 'Deployment', 'backend');
  const redis = m.find(render.app, 'StatefulSet', 'redis');
  const policies = m.ofKind(render.app, 'NetworkPolicy');
  const endpoints = [
    ...m.workloads(render.app).map((w, i) => workloadEndpoint(w, `10.244.0.${10 + i}`)),
    { name: `${NAMESPACE}/stray-pod`, namespace: NAMESPACE, labels: { run: 'stray-pod' },
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], ip: '10.244.0.30' },
    { name: 'ingress-nginx/controller', namespace: 'ingress-nginx', ip: '10.244.0.40',
      labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx',
        'app.kubernetes.io/component': 'controller' },
      ports: [{ name: 'http', containerPort: 80 }, { name: 'https', containerPort: 443 },
        { name: 'webhook', containerPort: 8443 }] },
    { name: 'ingress-nginx/admission-job', namespace: 'ingress-nginx', ip: '10.244.0.41',
      labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx',
        'app.kubernetes.io/component': 'admission-webhook' }, ports: [] },
    { name: 'kube-system/coredns', namespace: 'kube-system', ip: '10.244.0.53', labels: { 'k8s-app': 'kube-dns' },
      ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }] },
    { name: 'kube-system/metrics-server', namespace: 'kube-system', ip: '10.244.0.60',
      labels: { 'k8s-app': 'metrics-server' }, ports: [{ name: 'https', containerPort: 443 }] },
    { name: 'default/impostor', namespace: 'default', ip: '10.244.0.70',
      labels: { ...backend.spec.template.metadata.labels }, ports: [{ name: 'http', containerPort: 8080 }] },
    { name: 'default/redis-impostor', namespace: 'default', ip: '10.244.0.71',
      labels: { ...redis.spec.template.metadata.labels }, ports: [{ name: 'redis', containerPort: 6379 }] },
    { name: 'default/dns-impostor', namespace: 'default', ip: '10.244.0.72', labels: { 'k8s-app': 'kube-dns' },
      ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }] },
    ...internetHosts(policies),
  ];
  return { policies, namespaces, endpoints, ports: probedPorts(policies, endpoints) };
}

// Every connection the world allows that has an end in NAMESPACE (the only
// namespace whose policies are known), as "SRC -> DST PORT/PROTO", sorted;
// and how many were tried.
function allowedConnections(world) {
  const lines = [];
  let tried = 0;
  for (const src of world.endpoints) {
    for (const dst of world.endpoints) {
      if (src === dst || (src.namespace !== NAMESPACE && dst.namespace !== NAMESPACE)) continue;
      for (const [protocol, port] of world.ports) {
        tried += 1;
        if (allowed(world, src, dst, port, protocol)) lines.push(`${src.name} -> ${dst.name} ${port}/${protocol}`);
      }
    }
  }
  return { lines: lines.sort(), tried };
}

// "allowed: Q" or "refused: Q" for a query "SRC DST PORT/PROTO".
function answer(world, query) {
  const [srcName, dstName, portProto] = query.trim().split(/\s+/);
  const [port, protocol] = (portProto || '').split('/');
  const find = (name) => {
    const found = world.endpoints.find((e) => e.name === name);
    if (!found) throw new Error(`no endpoint ${name}; known: ${world.endpoints.map((e) => e.name).join(' ')}`);
    return found;
  };
  const verdict = allowed(world, find(srcName), find(dstName), Number(port), protocol || 'TCP');
  return `${verdict ? 'allowed' : 'refused'}: ${srcName} -> ${dstName} ${port}/${protocol || 'TCP'}`;
}

// A NetworkPolicy object for the self-test.
function policy(namespace, spec) {
  return { kind: 'NetworkPolicy', metadata: { name: 'p', namespace }, spec };
}

// The rules above on examples whose answers the Kubernetes documentation
// gives (its test-network-policy, its two alice/client peers, its defaults),
// plus named ports, port ranges and selector expressions. Returns failures.
function selftest() {
  const namespaces = {
    default: { [NAME_LABEL]: 'default' },
    myproject: { [NAME_LABEL]: 'myproject', project: 'myproject' },
    other: { [NAME_LABEL]: 'other', user: 'alice' },
  };
  const pod = (namespace, labels, ip, ports = []) => ({ name: `${namespace}/${ip}`, namespace, labels, ip, ports });
  const db = pod('default', { role: 'db' }, '10.0.1.1', [{ name: 'redis', containerPort: 6379 }]);
  const frontend = pod('default', { role: 'frontend' }, '10.0.1.2');
  const other = pod('default', { role: 'other' }, '10.0.1.3');
  const inProject = pod('myproject', { any: 'thing' }, '10.0.2.1');
  const frontendElsewhere = pod('other', { role: 'frontend' }, '10.0.3.1');
  const aliceClient = pod('other', { role: 'client' }, '10.0.3.2');
  const aliceOther = pod('other', { role: 'x' }, '10.0.3.3');
  const localClient = pod('default', { role: 'client' }, '10.0.1.4');
  const ext = (ip) => ({ name: ip, ip, labels: {}, ports: [] });
  const docsExample = policy('default', {
    podSelector: { matchLabels: { role: 'db' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
      { namespaceSelector: { matchLabels: { project: 'myproject' } } },
      { podSelector: { matchLabels: { role: 'frontend' } } }],
    ports: [{ protocol: 'TCP', port: 6379 }] }],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
  });
  const oneEntry = policy('default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [
    { namespaceSelector: { matchLabels: { user: 'alice' } }, podSelector: { matchLabels: { role: 'client' } } }] }] });
  const twoEntries = policy('default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [
    { namespaceSelector: { matchLabels: { user: 'alice' } } }, { podSelector: { matchLabels: { role: 'client' } } }] }] });
  const denyAll = policy('default', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const egressRulesOnly = policy('default', { podSelector: { matchLabels: { role: 'frontend' } }, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] });
  const ingressOnly = policy('default', { podSelector: { matchLabels: { role: 'frontend' } }, ingress: [] });
  const namedPort = policy('default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports: [{ port: 'redis' }] }] });
  const range = policy('default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ ports: [{ port: 6000, endPort: 6999 }] }] });
  const expression = policy('default', { podSelector: { matchExpressions: [{ key: 'role', operator: 'In', values: ['db'] }] },
    ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'role', operator: 'NotIn', values: ['frontend', 'client'] }] } }] }] });
  const allowFrontend = policy('default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }] });
  const allowOther = policy('default', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'other' } } }] }] });
  const cases = [
    // [what, policies, src, dst, port, protocol, expected]
    ['no policy: everything allowed', [], other, db, 1234, 'TCP', true],
    ['docs example: frontend pod to db 6379', [docsExample], frontend, db, 6379, 'TCP', true],
    ['docs example: frontend pod to db 6380', [docsExample], frontend, db, 6380, 'TCP', false],
    ['docs example: frontend pod to db 6379/UDP', [docsExample], frontend, db, 6379, 'UDP', false],
    ['docs example: any pod of a project=myproject namespace', [docsExample], inProject, db, 6379, 'TCP', true],
    ['docs example: role=frontend in another namespace', [docsExample], frontendElsewhere, db, 6379, 'TCP', false],
    ['docs example: unselected pod of the namespace', [docsExample], other, db, 6379, 'TCP', false],
    ['docs example: 172.17.0.5 in the ipBlock', [docsExample], ext('172.17.0.5'), db, 6379, 'TCP', true],
    ['docs example: 172.17.1.5 in the exception', [docsExample], ext('172.17.1.5'), db, 6379, 'TCP', false],
    ['docs example: db to 10.0.0.5:5978', [docsExample], db, ext('10.0.0.5'), 5978, 'TCP', true],
    ['docs example: db to 10.0.0.5:80', [docsExample], db, ext('10.0.0.5'), 80, 'TCP', false],
    ['docs example: db is isolated for egress', [docsExample], db, frontend, 80, 'TCP', false],
    ['docs example: unselected pods keep egress', [docsExample], frontend, ext('203.0.113.1'), 443, 'TCP', true],
    ['one entry, both selectors: client in an alice namespace', [oneEntry], aliceClient, db, 1, 'TCP', true],
    ['one entry, both selectors: other pod in an alice namespace', [oneEntry], aliceOther, db, 1, 'TCP', false],
    ['one entry, both selectors: client of the local namespace', [oneEntry], localClient, db, 1, 'TCP', false],
    ['two entries: any pod in an alice namespace', [twoEntries], aliceOther, db, 1, 'TCP', true],
    ['two entries: client of the local namespace', [twoEntries], localClient, db, 1, 'TCP', true],
    ['default deny all: ingress refused', [denyAll], other, db, 6379, 'TCP', false],
    ['default deny all: egress refused', [denyAll], db, ext('203.0.113.1'), 443, 'TCP', false],
    ['egress rules and no policyTypes: egress isolated', [egressRulesOnly], frontend, ext('203.0.113.1'), 443, 'TCP', false],
    ['egress rules and no policyTypes: the rule (all peers, 53/UDP)', [egressRulesOnly], frontend, ext('203.0.113.1'), 53, 'UDP', true],
    ['egress rules and no policyTypes: ingress isolated too', [egressRulesOnly], other, frontend, 80, 'TCP', false],
    ['ingress only and no policyTypes: egress left open', [ingressOnly], frontend, other, 80, 'TCP', true],
    ['named port: the pod port of that name', [namedPort], other, db, 6379, 'TCP', true],
    ['named port: another port', [namedPort], other, db, 6380, 'TCP', false],
    ['port range: inside', [range], other, db, 6999, 'TCP', true],
    ['port range: outside', [range], other, db, 7000, 'TCP', false],
    ['expressions: NotIn admits another role', [expression], other, db, 1, 'TCP', true],
    ['expressions: NotIn refuses frontend', [expression], frontend, db, 1, 'TCP', false],
    ['union of policies: first', [allowFrontend, allowOther], frontend, db, 1, 'TCP', true],
    ['union of policies: second', [allowFrontend, allowOther], other, db, 1, 'TCP', true],
    ['union of policies: neither', [allowFrontend, allowOther], localClient, db, 1, 'TCP', false],
    ['default deny plus an ingress allow: egress still refused', [denyAll, allowFrontend], frontend, db, 1, 'TCP', false],
    ['default deny plus ingress and egress allows: allowed', [denyAll, allowFrontend,
      policy('default', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'], egress: [{}] })],
    frontend, db, 1, 'TCP', true],
  ];
  const failures = [];
  for (const [what, policies, src, dst, port, protocol, expected] of cases) {
    const got = allowed({ policies, namespaces }, src, dst, port, protocol);
    if (got !== expected) failures.push(`${what}: expected ${expected ? 'allowed' : 'refused'}, got ${got ? 'allowed' : 'refused'}`);
  }
  return { failures, count: cases.length };
}

// Runs the command (see the top of this file).
function main([command, dir, ...queries]) {
  if (command === 'selftest') {
    const { failures, count } = selftest();
    failures.forEach((f) => console.log(`FAIL: ${f}`));
    if (failures.length === 0) console.log(`ok: ${count} cases`);
    process.exit(failures.length === 0 ? 0 : 1);
  }
  const world = clusterWorld(m.loadRender(dir));
  if (command === 'allowed') {
    const { lines, tried } = allowedConnections(world);
    lines.forEach((l) => console.log(l));
    console.log(`# ${lines.length} of ${tried} connections allowed`);
  } else if (command === 'query') {
    queries.forEach((q) => console.log(answer(world, q)));
  } else {
    console.log('usage: reachability.js allowed|query RENDER_DIR [QUERY...] | selftest');
    process.exit(2);
  }
}

if (require.main === module) {
  main(process.argv.slice(2));
}

module.exports = { allowed, selects, clusterWorld, allowedConnections };
