// checks.js: the cross-object consistency checks of tests/k8s.bats. Each
// check takes a render (see manifests.loadRender) and throws an Error that
// says what disagrees with what; it returns a one-line summary otherwise.
'use strict';

const crypto = require('crypto');
const path = require('path');
const m = require('./manifests');
const src = require('./sources');

const NAMESPACE = 'devops-2025';
const BACKEND_IMAGE = 'dev.local/d22/backend';

// TLS 1.2 suites with ECDHE key exchange (forward secrecy) and AEAD ciphers
// only: Mozilla's "intermediate" list, the same as the stack's front
// (tests/lib/stack.bash). TLS 1.3's suites are all of that kind.
const MOZILLA_INTERMEDIATE_TLS12 = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

// ingress-nginx ConfigMap keys that, once set, let a client choose the
// address the per-client limits count (limit-rps and limit-connections key
// on it), or pass its own forwarding headers on; the controller is the edge,
// so none may be set (use-forwarded-headers and enable-real-ip must be
// "false", which the check asks for separately).
const TRUSTS_CLIENT_ADDRESS = {
  'use-proxy-protocol': 'the address would come from a PROXY header, which a client connecting directly writes itself',
  'proxy-real-ip-cidr': 'it names proxies whose forwarding headers are trusted, and there are none',
  'forwarded-for-header': 'it names a client-sent header to take the address from',
  'compute-full-forwarded-for': 'it passes the client\'s own X-Forwarded-For on to the backends',
  'limit-conn-zone-variable': 'the connection limit would count something other than the client\'s address',
};

// Throws message unless condition holds.
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// The backend Deployment and its container.
function backend(render) {
  const workload = m.find(render.app, 'Deployment', 'backend');
  return { workload, container: m.container(workload, 'backend') };
}

// The Redis StatefulSet and its container.
function redis(render) {
  const workload = m.find(render.app, 'StatefulSet', 'redis');
  return { workload, container: m.container(workload, 'redis') };
}

// A container's environment variable by name (the env entry), or undefined.
function envEntry(container, name) {
  return (container.env || []).find((e) => e.name === name);
}

// The effective value of a plain variable: the pod's env, else the image's ENV.
function effectiveEnv(container, name) {
  const entry = envEntry(container, name);
  if (entry && entry.value !== undefined) return entry.value;
  return src.dockerfileFinalStage().env[name];
}

// The redis.conf text in the ConfigMap mounted at the directory of file p.
function mountedConfigFile(render, workload, container, p) {
  const mount = (container.volumeMounts || []).find((vm) => p.startsWith(`${vm.mountPath}/`));
  assert(mount, `${p} is not inside any volume mount of ${container.name}`);
  const volume = workload.spec.template.spec.volumes.find((v) => v.name === mount.name);
  assert(volume && volume.configMap, `volume ${mount.name} at ${mount.mountPath} is not a ConfigMap`);
  const configMap = m.find(render.app, 'ConfigMap', volume.configMap.name);
  const key = path.posix.relative(mount.mountPath, p);
  assert(configMap.data && key in configMap.data, `ConfigMap ${configMap.metadata.name} has no key ${key}`);
  return configMap.data[key];
}

// The "secret/key" of the Secret volume item that file p of a container is,
// or undefined when p is no such item.
function secretFileOf(workload, container, p) {
  const mount = (container.volumeMounts || []).find((vm) => p.startsWith(`${vm.mountPath}/`));
  if (!mount) return undefined;
  const volume = workload.spec.template.spec.volumes.find((v) => v.name === mount.name);
  const relative = path.posix.relative(mount.mountPath, p);
  const item = volume && volume.secret && volume.secret.items.find((i) => i.path === relative);
  return item && `${volume.secret.secretName}/${item.key}`;
}

// The users of Redis's ACL file (the Secret redis-acl): { name: { rules,
// hashes } }, rules without the password hashes.
function aclUsers(render) {
  const text = m.secretValue(m.find(render.secrets, 'Secret', 'redis-acl'), 'users.acl');
  const users = {};
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    const [keyword, name, ...rest] = line.split(' ');
    assert(keyword === 'user', `users.acl: a line does not start with "user": ${line}`);
    assert(!(name in users), `users.acl defines ${name} twice`);
    users[name] = {
      rules: rest.filter((r) => !/^#[0-9a-f]{64}$/.test(r)),
      hashes: rest.filter((r) => /^#[0-9a-f]{64}$/.test(r)).map((r) => r.slice(1)),
    };
  }
  return users;
}

// The redis.conf the Redis container starts with (its args name the file).
function redisConf(render) {
  const { workload, container } = redis(render);
  const args = [...(container.command || []), ...(container.args || [])];
  const confPath = args.find((a) => a.endsWith('.conf'));
  assert(confPath, `the Redis container's command and args name no .conf file: ${args.join(' ')}`);
  return { confPath, text: mountedConfigFile(render, workload, container, confPath) };
}

const checks = {
  // Every workload's selector matches its own pods, and each Service selects
  // exactly one workload and targets one of its ports.
  'service-selectors'(render) {
    for (const w of m.workloads(render.app)) {
      assert(m.selects(w.spec.selector, w.spec.template.metadata.labels),
        `${w.kind} ${w.metadata.name}: selector does not match its pod labels`);
    }
    const expected = { backend: 'Deployment/backend', redis: 'StatefulSet/redis', 'redis-headless': 'StatefulSet/redis' };
    for (const svc of m.ofKind(render.app, 'Service')) {
      const selected = m.workloadsSelectedBy(render.app, svc.spec.selector);
      const names = selected.map((w) => `${w.kind}/${w.metadata.name}`);
      assert(names.length === 1, `Service ${svc.metadata.name} selects ${names.length} workloads: ${names}`);
      assert(names[0] === expected[svc.metadata.name],
        `Service ${svc.metadata.name} selects ${names[0]}, expected ${expected[svc.metadata.name]}`);
      for (const port of svc.spec.ports) {
        const target = port.targetPort === undefined ? port.port : port.targetPort;
        const found = selected[0].spec.template.spec.containers.some((c) => m.containerPort(c, target));
        assert(found, `Service ${svc.metadata.name} port ${port.port} targets ${target}, which ${names[0]} does not expose`);
      }
    }
    return 'backend -> Deployment/backend, redis and redis-headless -> StatefulSet/redis';
  },

  // The Ingress (class nginx, HTTP redirected to HTTPS) routes /v1/bitcoins,
  // and only that, to a Service port that exists; its host has TLS.
  'ingress-backend'(render) {
    const ingress = m.find(render.app, 'Ingress', 'bitcoin');
    assert(ingress.spec.ingressClassName === 'nginx', 'ingressClassName is not nginx');
    assert((ingress.metadata.annotations || {})['nginx.ingress.kubernetes.io/ssl-redirect'] === 'true',
      'the Ingress does not set nginx.ingress.kubernetes.io/ssl-redirect: "true"');
    const tlsHosts = (ingress.spec.tls || []).flatMap((t) => t.hosts || []);
    const paths = [];
    for (const rule of ingress.spec.rules) {
      assert(tlsHosts.includes(rule.host), `host ${rule.host} has no TLS entry`);
      for (const p of rule.http.paths) {
        paths.push(p.path);
        const svc = m.find(render.app, 'Service', p.backend.service.name);
        const { name, number } = p.backend.service.port;
        const port = svc.spec.ports.find((sp) => (name ? sp.name === name : sp.port === number));
        assert(port, `Service ${svc.metadata.name} has no port ${name || number}`);
      }
    }
    assert(JSON.stringify(paths) === JSON.stringify(['/v1/bitcoins']),
      `the Ingress routes ${paths}, expected only /v1/bitcoins`);
    return `${tlsHosts.join(', ')}: /v1/bitcoins -> backend:http`;
  },

  // The backend probes ask lighttpd routes that exist, on the http port that
  // lighttpd listens on (PORT on 0.0.0.0); no probe waits needlessly.
  'probe-routes'(render) {
    const { workload, container } = backend(render);
    const http = m.containerPort(container, 'http');
    assert(http, 'the backend container has no port named http');
    assert(String(effectiveEnv(container, 'PORT')) === String(http.containerPort),
      `lighttpd listens on PORT=${effectiveEnv(container, 'PORT')}, the http port is ${http.containerPort}`);
    assert(effectiveEnv(container, 'BIND_ADDR') === '0.0.0.0',
      `lighttpd binds ${effectiveEnv(container, 'BIND_ADDR')}, not 0.0.0.0: probes could not reach it`);
    const expectedPaths = { readinessProbe: '/livez', livenessProbe: '/livez' };
    for (const [probe, expectedPath] of Object.entries(expectedPaths)) {
      const get = (container[probe] || {}).httpGet;
      assert(get, `the backend has no HTTP ${probe}`);
      assert(get.path === expectedPath, `${probe} asks ${get.path}, expected ${expectedPath}`);
      assert(src.lighttpdServes(get.path), `${probe} path ${get.path} is no route in lighttpd.conf`);
      assert(m.containerPort(container, get.port), `${probe} port ${get.port} is not a container port`);
    }
    for (const w of [workload, redis(render).workload]) {
      for (const c of w.spec.template.spec.containers) {
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          assert(!(c[probe] && c[probe].initialDelaySeconds),
            `${w.metadata.name}/${c.name} ${probe} has initialDelaySeconds`);
        }
      }
    }
    return 'readiness and liveness /livez on http (8080)';
  },

  // Every setting the C programs read is set in the backend's environment and
  // forwarded to the programs by both lighttpd modes; service links, which
  // would add REDIS_PORT=tcp://..., are off.
  'env-vars'(render) {
    const { workload, container } = backend(render);
    const settings = src.programSettings();
    assert(settings.includes('REDIS_HOST'), `found no settings in cgi-bin/*.c (got ${settings})`);
    const derived = src.launcherDerivedVariables();
    for (const name of settings) {
      assert(derived.includes(name) || envEntry(container, name), `the programs read ${name}, the backend does not set it`);
      for (const mode of ['cgi', 'fastcgi']) {
        assert(src.forwardedByMode(mode).includes(name),
          `cgi-bin/mode-${mode}.conf does not forward ${name} to the programs`);
      }
    }
    assert(effectiveEnv(container, 'REDIS_HOST') === 'redis', 'REDIS_HOST is not the Service redis');
    const redisPort = m.find(render.app, 'Service', 'redis').spec.ports[0].port;
    assert(effectiveEnv(container, 'REDIS_PORT') === String(redisPort),
      `REDIS_PORT is ${effectiveEnv(container, 'REDIS_PORT')}, the Service redis listens on ${redisPort}`);
    assert(['cgi', 'fastcgi'].includes(effectiveEnv(container, 'BACKEND_MODE')), 'BACKEND_MODE is not cgi or fastcgi');
    for (const w of m.workloads(render.app)) {
      assert(w.spec.template.spec.enableServiceLinks === false, `${w.metadata.name}: enableServiceLinks is not false`);
    }
    return settings.join(' ');
  },

  // Every Secret key a pod references exists in the Secrets the scripts make,
  // and Redis's ACL file holds the hashes of the passwords the other Secrets
  // carry.
  'secret-keys'(render) {
    const secrets = m.ofKind(render.secrets, 'Secret');
    const refs = [];
    for (const w of m.workloads(render.app)) {
      const pod = w.spec.template.spec;
      for (const c of pod.containers) {
        for (const e of c.env || []) {
          const ref = e.valueFrom && e.valueFrom.secretKeyRef;
          if (ref) refs.push({ where: `${w.metadata.name}/${c.name} env ${e.name}`, name: ref.name, key: ref.key });
        }
        assert(!(c.envFrom || []).some((f) => f.secretRef), `${c.name}: envFrom secretRef is not checked; use secretKeyRef`);
      }
      for (const v of pod.volumes || []) {
        if (!v.secret) continue;
        assert(v.secret.items, `${w.metadata.name}: secret volume ${v.name} should list its items`);
        for (const item of v.secret.items) {
          refs.push({ where: `${w.metadata.name} volume ${v.name}`, name: v.secret.secretName, key: item.key });
        }
      }
    }
    assert(refs.length > 0, 'no pod references a Secret');
    for (const ref of refs) {
      const secret = secrets.find((s) => s.metadata.name === ref.name);
      assert(secret, `${ref.where} needs Secret ${ref.name}, which no script makes`);
      assert(m.secretValue(secret, ref.key) !== undefined, `${ref.where} needs key ${ref.key} of Secret ${ref.name}`);
    }
    const users = aclUsers(render);
    for (const user of ['app', 'probe']) {
      const password = m.secretValue(m.find(render.secrets, 'Secret', `redis-${user}`), 'password');
      const hash = crypto.createHash('sha256').update(password).digest('hex');
      assert(users[user] && users[user].hashes.includes(hash),
        `users.acl does not hold the hash of the password in Secret redis-${user}`);
    }
    return refs.map((r) => `${r.name}/${r.key}`).join(' ');
  },

  // Redis's users (the Secret redis-acl): the default user off (no client
  // can authenticate as it); the app's
  // allowed exactly what a deposit (the function and the commands it calls,
  // which Redis checks against the caller's ACL) and a read need, on their
  // keys only, and no Lua but our functions (FCALL, no EVAL); the probe's
  // only PING and FUNCTION LIST and LOAD; the admin's everything; every user
  // with a SHA-256 hash, never a password or nopass.
  'redis-acl'(render) {
    const users = aclUsers(render);
    assert(JSON.stringify(Object.keys(users).sort()) === '["admin","app","default","probe"]',
      `users.acl defines ${Object.keys(users).sort()}, expected admin, app, default and probe`);
    for (const [name, user] of Object.entries(users)) {
      assert(!user.rules.some((r) => r.startsWith('>') || r === 'nopass'),
        `user ${name} has a password in clear or nopass`);
      assert(name === 'default' || user.hashes.length >= 1, `user ${name} has no password hash`);
    }
    const expected = {
      // Off: no client can be it. It keeps every permission because Redis
      // replays the AOF as the default user and EXEC checks them again
      // (redis/redis#14541): a keyed deposit is a MULTI/EXEC in the AOF.
      default: 'off resetpass ~* &* +@all',
      app: 'on resetkeys resetchannels -@all +fcall ~bitcoins ~idempotency:* (+get +incrby ~bitcoins) (+get +set +pttl ~idempotency:*)',
      probe: 'on resetkeys resetchannels -@all +ping +function|list +function|load',
      admin: 'on ~* &* +@all',
    };
    for (const [name, rules] of Object.entries(expected)) {
      assert(users[name].rules.join(' ') === rules, `user ${name}: "${users[name].rules.join(' ')}", expected "${rules}"`);
    }
    return Object.entries(users).map(([name, u]) => `${name}: ${u.rules.join(' ')}`).join('; ');
  },

  // Each pod mounts only the Redis Secrets it needs, and takes none as an
  // environment variable (which /proc/PID/environ and kubectl describe show):
  // the backends the app's password, whose file REDIS_PASSWORD_FILE names;
  // Redis the ACL file (hashes only) and the probe's password, whose file its
  // probes read; the admin's password is in no Secret.
  'secret-mounts'(render) {
    const mounted = (w) => (w.spec.template.spec.volumes || []).filter((v) => v.secret)
      .map((v) => v.secret.secretName).sort();
    for (const w of m.workloads(render.app)) {
      for (const c of w.spec.template.spec.containers) {
        for (const e of c.env || []) {
          assert(!(e.valueFrom && e.valueFrom.secretKeyRef), `${w.metadata.name}/${c.name} takes ${e.name} from a Secret`);
          assert(!/PASSWORD$|SECRET|TOKEN/.test(e.name), `${w.metadata.name}/${c.name} sets ${e.name} in its environment`);
        }
      }
    }
    const { workload: backendWorkload, container } = backend(render);
    assert(JSON.stringify(mounted(backendWorkload)) === '["redis-app"]',
      `the backend mounts the Secrets ${mounted(backendWorkload)}, expected only redis-app`);
    const file = effectiveEnv(container, 'REDIS_PASSWORD_FILE');
    assert(secretFileOf(backendWorkload, container, file) === 'redis-app/password',
      `REDIS_PASSWORD_FILE ${file} is not the password of the mounted Secret redis-app`);
    assert(effectiveEnv(container, 'REDIS_USER') === 'app', 'REDIS_USER is not app');
    const { workload: redisWorkload, container: redisContainer } = redis(render);
    assert(JSON.stringify(mounted(redisWorkload)) === '["redis-acl","redis-probe"]',
      `Redis mounts the Secrets ${mounted(redisWorkload)}, expected only redis-acl and redis-probe`);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const script = (((redisContainer[probe] || {}).exec || {}).command || []).join(' ');
      const input = /--askpass\b.*<\s*(\S+)/.exec(script);
      assert(/--user probe\b/.test(script) && input, `the Redis ${probe} does not authenticate as probe with --askpass: ${script}`);
      assert(secretFileOf(redisWorkload, redisContainer, input[1]) === 'redis-probe/password',
        `the Redis ${probe} reads ${input[1]}, not the probe's password`);
    }
    return `backend: redis-app (${file}); redis: redis-acl, redis-probe`;
  },

  // The NetworkPolicy isolates the Redis pods and lets in only the backend
  // pods, only on Redis's port.
  'network-policy'(render) {
    const policy = m.find(render.app, 'NetworkPolicy', 'redis-from-backend-only').spec;
    const name = (ws) => ws.map((w) => `${w.kind}/${w.metadata.name}`).join(',');
    const protectedPods = m.workloadsSelectedBy(render.app, policy.podSelector);
    assert(name(protectedPods) === 'StatefulSet/redis', `the policy selects ${name(protectedPods)}, not the Redis pods`);
    assert((policy.policyTypes || []).includes('Ingress'), 'policyTypes lacks Ingress');
    assert(policy.ingress.length === 1 && policy.ingress[0].from.length === 1, 'expected exactly one ingress rule with one peer');
    const peer = policy.ingress[0].from[0];
    assert(!peer.namespaceSelector && !peer.ipBlock, 'the peer must be a podSelector only');
    const clients = m.workloadsSelectedBy(render.app, peer.podSelector);
    assert(name(clients) === 'Deployment/backend', `the policy admits ${name(clients)}, not only the backend pods`);
    const { container } = redis(render);
    const ports = policy.ingress[0].ports || [];
    assert(ports.length === 1 && (ports[0].protocol || 'TCP') === 'TCP', 'expected exactly one TCP port (a rule without ports admits every port)');
    const redisPort = m.containerPort(container, ports[0].port);
    assert(redisPort && redisPort.containerPort === 6379, `the admitted port ${ports[0].port} is not Redis's 6379`);
    return 'Deployment/backend -> StatefulSet/redis:6379/TCP only';
  },

  // The Ingress names the TLS Secret that scripts/lib/gen-cert.sh makes, and its
  // certificate is for exactly the Ingress host.
  'tls-secret'(render) {
    const ingress = m.find(render.app, 'Ingress', 'bitcoin');
    const tls = m.ofKind(render.secrets, 'Secret').filter((s) => s.type === 'kubernetes.io/tls');
    assert(tls.length === 1, `expected one kubernetes.io/tls Secret from gen-cert.sh, found ${tls.length}`);
    for (const entry of ingress.spec.tls) {
      assert(entry.secretName === tls[0].metadata.name,
        `the Ingress names TLS Secret ${entry.secretName}, gen-cert.sh makes ${tls[0].metadata.name}`);
      const cert = new crypto.X509Certificate(Buffer.from(tls[0].data['tls.crt'], 'base64'));
      assert(cert.subjectAltName === `DNS:${entry.hosts[0]}`,
        `the certificate's SAN is ${cert.subjectAltName}, the Ingress host is ${entry.hosts[0]}`);
    }
    return `${tls[0].metadata.name} for ${ingress.spec.tls[0].hosts[0]}`;
  },

  // Redis's data volume (ReadWriteOnce, kept when the StatefulSet goes) is
  // mounted at the dir where redis.conf writes the AOF, and the ACL file
  // redis.conf names is where the Secret redis-acl is mounted.
  'redis-volume'(render) {
    const { workload, container } = redis(render);
    const templates = workload.spec.volumeClaimTemplates || [];
    assert(templates.length === 1, `expected one volumeClaimTemplate, found ${templates.length}`);
    const claim = templates[0];
    assert(JSON.stringify(claim.spec.accessModes) === '["ReadWriteOnce"]', 'the claim is not ReadWriteOnce');
    const retention = workload.spec.persistentVolumeClaimRetentionPolicy || {};
    assert(retention.whenDeleted === 'Retain' && retention.whenScaled === 'Retain', 'the claim is not retained');
    const mount = container.volumeMounts.find((vm) => vm.name === claim.metadata.name);
    assert(mount, `the claim ${claim.metadata.name} is not mounted in the Redis container`);
    const conf = src.redisDirectives(redisConf(render).text);
    assert(path.posix.normalize(conf.dir) === path.posix.normalize(mount.mountPath),
      `redis.conf writes to dir ${conf.dir}, the volume is mounted at ${mount.mountPath}`);
    assert(conf.aclfile, 'redis.conf names no aclfile');
    assert(secretFileOf(workload, container, conf.aclfile) === 'redis-acl/users.acl',
      `redis.conf's aclfile ${conf.aclfile} is not users.acl of the mounted Secret redis-acl`);
    return `${claim.metadata.name} at ${mount.mountPath} = dir ${conf.dir}; aclfile ${conf.aclfile}`;
  },

  // Every acknowledged deposit is on disk (AOF, fsync always, no RDB), no
  // password reaches Redis but as a hash in the mounted ACL file, the probes
  // demand PONG, and the image is a pinned redis:7.x.y tag.
  'redis-durability'(render) {
    const { container } = redis(render);
    const { text } = redisConf(render);
    const conf = src.redisDirectives(text);
    assert(conf.appendonly === 'yes', 'appendonly is not yes');
    assert(conf.appendfsync === 'always', 'appendfsync is not always');
    assert(conf.save === '""', 'RDB snapshots are not off (save "")');
    assert(!/^\s*(requirepass|masterauth|user)\b/m.test(text), 'redis.conf holds a password or a user');
    const commandLine = [...(container.command || []), ...(container.args || [])].join(' ');
    assert(!/requirepass|pass/i.test(commandLine), `the command line mentions a password: ${commandLine}`);
    assert(/^redis:7\.\d+\.\d+(-[a-z0-9]+)?$/.test(container.image), `${container.image} is not a pinned redis:7.x.y tag`);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const command = ((container[probe] || {}).exec || {}).command || [];
      const script = command.join(' ');
      assert(/redis-cli\b.*\bping\b/.test(script) && /grep -qx PONG/.test(script),
        `the Redis ${probe} does not demand PONG from redis-cli ping: ${script}`);
    }
    return `${container.image}, appendfsync ${conf.appendfsync}`;
  },

  // Redis's readiness probe makes it hold our function library, the only Lua
  // the app's user may run: it runs the loader on the library, both from a
  // mounted ConfigMap and both as in the repository, as the probe user with
  // its mounted password, before it demands PONG; liveness loads nothing (a
  // failed load must never restart Redis).
  'redis-functions'(render) {
    const { workload, container } = redis(render);
    const readiness = ((container.readinessProbe || {}).exec || {}).command || [];
    const script = readiness.join(' ');
    const call = /\bbash (\S+\/redis-load-functions\.sh) (\S+\.lua) (\S+) --user probe -h 127\.0\.0\.1 -p 6379 && /.exec(script);
    assert(call, `the Redis readinessProbe does not load the library as probe before its PING: ${script}`);
    const [, loader, library, passwordFile] = call;
    for (const [file, repoFile] of [[loader, 'k8s/redis-load-functions.sh'], [library, 'k8s/redis-functions.lua']]) {
      assert(mountedConfigFile(render, workload, container, file) === src.read(repoFile),
        `${file} in the Redis pod is not ${repoFile}`);
    }
    assert(secretFileOf(workload, container, passwordFile) === 'redis-probe/password',
      `the loader reads its password from ${passwordFile}, not the Secret redis-probe's password`);
    for (const probe of ['startupProbe', 'livenessProbe']) {
      const command = (((container[probe] || {}).exec || {}).command || []).join(' ');
      assert(!/function|\.lua/i.test(command), `the Redis ${probe} touches the function library: ${command}`);
    }
    return `readiness loads ${library} with ${loader} as probe`;
  },

  // The pods meet the "restricted" Pod Security Standard the namespace
  // enforces, and the read-only root filesystem leaves lighttpd's RUN_DIR
  // writable.
  'pod-security'(render) {
    const namespace = m.find(render.namespace, 'Namespace', NAMESPACE);
    assert(namespace.metadata.labels['pod-security.kubernetes.io/enforce'] === 'restricted',
      'the namespace does not enforce the restricted Pod Security Standard');
    const allowedVolumes = ['configMap', 'emptyDir', 'projected', 'secret', 'downwardAPI', 'persistentVolumeClaim', 'ephemeral', 'csi'];
    for (const w of m.workloads(render.app)) {
      const pod = w.spec.template.spec;
      const podSc = pod.securityContext || {};
      assert(pod.automountServiceAccountToken === false, `${w.metadata.name}: service account token is mounted`);
      for (const v of pod.volumes || []) {
        const type = Object.keys(v).find((k) => k !== 'name');
        assert(allowedVolumes.includes(type), `${w.metadata.name}: volume type ${type} is not allowed`);
      }
      for (const c of pod.containers) {
        const sc = c.securityContext || {};
        const where = `${w.metadata.name}/${c.name}`;
        assert((sc.runAsNonRoot ?? podSc.runAsNonRoot) === true, `${where}: runAsNonRoot is not true`);
        assert(((sc.runAsUser ?? podSc.runAsUser) || 0) > 0, `${where}: no numeric non-root runAsUser`);
        assert(((sc.seccompProfile || podSc.seccompProfile) || {}).type === 'RuntimeDefault', `${where}: seccomp is not RuntimeDefault`);
        assert(sc.allowPrivilegeEscalation === false, `${where}: allowPrivilegeEscalation is not false`);
        assert(sc.privileged !== true, `${where}: privileged`);
        assert(JSON.stringify((sc.capabilities || {}).drop) === '["ALL"]', `${where}: capabilities are not dropped`);
        assert(!(sc.capabilities || {}).add, `${where}: adds capabilities`);
        assert(sc.readOnlyRootFilesystem === true, `${where}: root filesystem is writable`);
      }
    }
    const { workload, container } = backend(render);
    const user = src.dockerfileFinalStage().user;
    const runAs = workload.spec.template.spec.securityContext.runAsUser;
    assert(!user || !/^\d+/.test(user) || Number(user.split(':')[0]) === runAs,
      `the pod runs as ${runAs}, the Dockerfile's USER is ${user}`);
    const runDir = effectiveEnv(container, 'RUN_DIR');
    const mount = container.volumeMounts.find((vm) => `${runDir}/`.startsWith(`${vm.mountPath}/`));
    const volume = mount && workload.spec.template.spec.volumes.find((v) => v.name === mount.name);
    assert(volume && volume.emptyDir, `RUN_DIR ${runDir} is not on an emptyDir: lighttpd could not write it`);
    return 'restricted; backend RUN_DIR on an emptyDir';
  },

  // A stopping backend keeps serving through the preStop sleep, then gets
  // SIGINT (the image's STOPSIGNAL) and lighttpd finishes requests in flight:
  // the grace period covers both.
  'graceful-stop'(render) {
    const { workload, container } = backend(render);
    const preStop = (container.lifecycle || {}).preStop || {};
    const command = (preStop.exec || {}).command || [];
    const sleepSeconds = preStop.sleep ? preStop.sleep.seconds
      : (/(^|\/)sleep$/.test(command[0] || '') ? Number(command[1]) : NaN);
    assert(sleepSeconds > 0, `the preStop hook is not a sleep: ${JSON.stringify(preStop)}`);
    const stopSignal = src.dockerfileFinalStage().stopSignal;
    assert(stopSignal === 'SIGINT', `the Dockerfile's STOPSIGNAL is ${stopSignal}, lighttpd stops gracefully on SIGINT`);
    const graceful = src.lighttpdGracefulShutdownSeconds();
    const grace = workload.spec.template.spec.terminationGracePeriodSeconds;
    assert(grace > sleepSeconds + graceful,
      `terminationGracePeriodSeconds ${grace} is not more than preStop ${sleepSeconds} s + graceful shutdown ${graceful} s`);
    return `${grace} s > ${sleepSeconds} s + ${graceful} s`;
  },

  // Three backends, spread without blocking a one-node cluster, rolled out
  // without losing one, and a budget that keeps two.
  'availability'(render) {
    const { workload } = backend(render);
    assert(workload.spec.replicas === 3, `replicas is ${workload.spec.replicas}, expected 3`);
    const spread = workload.spec.template.spec.topologySpreadConstraints || [];
    assert(spread.length > 0, 'no topologySpreadConstraints');
    for (const s of spread) {
      assert(s.whenUnsatisfiable === 'ScheduleAnyway', `${s.topologyKey}: whenUnsatisfiable is not ScheduleAnyway`);
      assert(m.selects(s.labelSelector, workload.spec.template.metadata.labels), 'the spread does not select the backend pods');
    }
    assert(workload.spec.strategy.rollingUpdate.maxUnavailable === 0, 'a rollout may take a backend away');
    const pdbs = m.ofKind(render.app, 'PodDisruptionBudget');
    assert(pdbs.length === 1, `expected one PodDisruptionBudget, found ${pdbs.length}`);
    const pdb = pdbs[0].spec;
    assert(pdb.minAvailable === 2, `minAvailable is ${pdb.minAvailable}, expected 2`);
    const selected = m.workloadsSelectedBy(render.app, pdb.selector).map((w) => w.metadata.name);
    assert(JSON.stringify(selected) === '["backend"]', `the budget selects ${selected}`);
    return '3 replicas, minAvailable 2, maxUnavailable 0';
  },

  // skaffold builds the image the Deployment names (it rewrites only that
  // image), without pushing, and deploys k8s/ to devops-2025 on minikube.
  'skaffold-config'(render) {
    const config = m.loadFile(path.join(src.REPO_DIR, 'skaffold.yaml'))[0];
    const artifacts = config.build.artifacts;
    assert(artifacts.length === 1 && artifacts[0].image === BACKEND_IMAGE, `skaffold builds ${artifacts.map((a) => a.image)}`);
    assert(artifacts[0].docker && artifacts[0].docker.dockerfile === 'Dockerfile', 'skaffold does not build from the Dockerfile');
    assert(config.build.local && config.build.local.push === false, 'build.local.push is not false');
    assert(JSON.stringify(config.manifests.kustomize.paths) === '["k8s"]', 'skaffold does not render k8s/ with kustomize');
    assert(config.deploy.kubeContext === 'minikube', 'deploy.kubeContext is not minikube');
    assert(config.deploy.kubectl.defaultNamespace === NAMESPACE, `deploy namespace is not ${NAMESPACE}`);
    const { container } = backend(render);
    assert(container.image === BACKEND_IMAGE, `the Deployment runs ${container.image}, skaffold builds ${BACKEND_IMAGE}`);
    const profile = (config.profiles || []).find((p) => p.name === 'minikube-ip');
    assert(profile, 'no skaffold profile minikube-ip');
    const overlayDir = profile.manifests.kustomize.paths[0];
    assert(src.read('scripts/lib/ingress-host-overlay.sh').includes(`$REPO_DIR/${overlayDir}}`),
      `profile minikube-ip renders ${overlayDir}, which scripts/lib/ingress-host-overlay.sh does not write`);
    return `${BACKEND_IMAGE} -> k8s/ in ${NAMESPACE}@minikube`;
  },

  // What skaffold deploys (and deletes on Ctrl-C) holds no namespace, no
  // Secret and no volume claim; it is all in devops-2025 and labelled,
  // without the label leaking into selectors.
  'skaffold-scope'(render) {
    for (const kind of ['Namespace', 'Secret', 'PersistentVolumeClaim']) {
      assert(m.ofKind(render.app, kind).length === 0, `k8s/ renders a ${kind}: skaffold would delete it on Ctrl-C`);
    }
    for (const obj of render.app) {
      assert(obj.metadata.namespace === NAMESPACE, `${obj.kind}/${obj.metadata.name} is not in ${NAMESPACE}`);
      assert(obj.metadata.labels['app.kubernetes.io/part-of'] === 'money-bank', `${obj.kind}/${obj.metadata.name} lacks the part-of label`);
    }
    for (const w of m.workloads(render.app)) {
      assert(!('app.kubernetes.io/part-of' in w.spec.selector.matchLabels), `${w.metadata.name}: labels rewrote the selector`);
    }
    return `${render.app.length} objects, all in ${NAMESPACE}`;
  },

  // The Ingress limits each client IP (per controller replica): 10 requests
  // per second sustained, bursts of 20 served at once (ingress-nginx's burst
  // is limit-rps x limit-burst-multiplier, with nodelay), 20 connections at
  // once; no client is exempt.
  'ingress-limits'(render) {
    const annotations = m.find(render.app, 'Ingress', 'bitcoin').metadata.annotations || {};
    const get = (name) => annotations[`nginx.ingress.kubernetes.io/${name}`];
    const wanted = { 'limit-rps': '10', 'limit-burst-multiplier': '2', 'limit-connections': '20' };
    for (const [name, value] of Object.entries(wanted)) {
      assert(get(name) === value, `${name} is ${JSON.stringify(get(name))}, expected "${value}"`);
    }
    const burst = Number(get('limit-rps')) * Number(get('limit-burst-multiplier'));
    assert(burst === 20, `the burst is ${burst} requests, expected 20`);
    for (const name of ['limit-rpm', 'limit-whitelist', 'limit-allowlist']) {
      assert(get(name) === undefined, `the Ingress sets ${name}, which loosens the per-client limits`);
    }
    return `${get('limit-rps')} req/s, burst ${burst}, ${get('limit-connections')} connections per client IP`;
  },

  // Over the limits the controller answers 429, and it speaks TLS 1.2 and 1.3
  // only, TLS 1.2 with forward-secret AEAD suites only, with HSTS for a
  // year; it takes the client's address from the connection, never from
  // headers the client sends. ingress-nginx takes these only from its
  // ConfigMap (k8s/ingress-controller/config-patch.yaml, which
  // scripts/minikube-up.sh merges in; the render holds it as
  // controller-config.yaml), so the Ingress must not carry them as
  // annotations, which the controller would ignore.
  'ingress-controller-config'(render) {
    const patch = render.controller[0];
    assert(JSON.stringify(Object.keys(patch)) === '["data"]', `the patch changes ${Object.keys(patch)}, expected only data`);
    const data = patch.data;
    for (const [key, value] of Object.entries(data)) {
      assert(typeof value === 'string', `ConfigMap data ${key} is not a string: ${JSON.stringify(value)}`);
    }
    const wanted = {
      'limit-req-status-code': '429', 'limit-conn-status-code': '429',
      'ssl-protocols': 'TLSv1.2 TLSv1.3', 'ssl-ciphers': MOZILLA_INTERMEDIATE_TLS12, hsts: 'true',
      'use-forwarded-headers': 'false', 'enable-real-ip': 'false',
    };
    for (const [key, value] of Object.entries(wanted)) {
      assert(data[key] === value, `the controller's ${key} is ${JSON.stringify(data[key])}, expected "${value}"`);
    }
    for (const [key, why] of Object.entries(TRUSTS_CLIENT_ADDRESS)) {
      assert(!(key in data), `the controller's ${key} is ${JSON.stringify(data[key])}: ${why}`);
    }
    assert(Number(data['hsts-max-age']) >= 31536000, `hsts-max-age ${data['hsts-max-age']} is under a year`);
    const annotations = Object.keys(m.find(render.app, 'Ingress', 'bitcoin').metadata.annotations || {});
    const controllerOnly = /^nginx\.ingress\.kubernetes\.io\/(ssl-protocols|hsts.*|limit-(req|conn)-status-code)$/;
    const ignored = annotations.filter((a) => controllerOnly.test(a));
    assert(ignored.length === 0, `the Ingress sets ${ignored}, which ingress-nginx reads only from its ConfigMap`);
    return `429 over the limits, ${data['ssl-protocols']}, TLS 1.2 suites ${data['ssl-ciphers']}, HSTS max-age ${data['hsts-max-age']}, no forwarded address trusted`;
  },

  // Redis runs a 7.4 release with the security fixes of July 2026 (7.4.10,
  // a stream RESTORE use-after-free that may lead to remote code execution)
  // and August 2026 (7.4.11, a use-after-free in the TLS pending-data list),
  // on the Debian bookworm variant, pinned to its patch release.
  'redis-image'(render) {
    const { container } = redis(render);
    const tag = /^redis:7\.4\.(\d+)-bookworm$/.exec(container.image);
    assert(tag, `${container.image} is not a pinned redis:7.4.x-bookworm`);
    assert(Number(tag[1]) >= 11, `${container.image} predates 7.4.11, the first 7.4 release with both security fixes`);
    return container.image;
  },

  // Readiness asks lighttpd alone, so that a Redis outage, which every
  // replica shares, cannot take them all out at once; /healthz, which asks
  // Redis, stays a route for people and monitors.
  'readiness-without-redis'(render) {
    const { container } = backend(render);
    const readiness = ((container.readinessProbe || {}).httpGet || {}).path;
    const liveness = ((container.livenessProbe || {}).httpGet || {}).path;
    assert(readiness === '/livez', `readiness asks ${readiness}, which depends on Redis; ask /livez`);
    assert(readiness === liveness, `readiness asks ${readiness}, liveness ${liveness}: both should ask lighttpd alone`);
    assert(src.lighttpdServes('/healthz'), '/healthz is no longer a route: people and monitors use it');
    return 'readiness and liveness on /livez; /healthz for people';
  },

  // Under a flood, a probe waits for a connection slot behind at most the
  // listen backlog and the connections in service, which lighttpd serves
  // max-connections per REDIS_TIMEOUT_MS while Redis stalls: each probe's
  // timeout covers that wait with room to spare.
  'probe-timeouts'(render) {
    const { container } = backend(render);
    const cap = src.lighttpdNumber('server.max-connections', 0);
    const backlog = src.lighttpdNumber('server.listen-backlog', 1024);
    assert(cap > 0 && cap <= 400, `lighttpd.conf caps connections at ${cap}, not 1 to 400`);
    const timeoutMs = Number(effectiveEnv(container, 'REDIS_TIMEOUT_MS'));
    const waitSeconds = ((backlog + cap) / cap) * (timeoutMs / 1000);
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      const timeout = (container[probe] || {}).timeoutSeconds || 1;
      assert(timeout >= 1.5 * waitSeconds,
        `${probe} times out after ${timeout} s; a probe may wait ${waitSeconds.toFixed(1)} s for a slot`);
    }
    return `probes wait at most ${waitSeconds.toFixed(1)} s for one of ${cap} slots`;
  },

  // A budget that unready pods cannot block: they may always be evicted.
  'disruption-budget'(render) {
    const pdb = m.ofKind(render.app, 'PodDisruptionBudget')[0];
    assert(pdb && pdb.spec.unhealthyPodEvictionPolicy === 'AlwaysAllow',
      'the PodDisruptionBudget lacks unhealthyPodEvictionPolicy: AlwaysAllow');
    return 'unhealthy pods may always be evicted';
  },

  // The Redis StatefulSet is governed by a headless Service, while the
  // backends reach Redis through the ClusterIP Service, whose address
  // start-lighttpd resolves once.
  'redis-services'(render) {
    const { workload } = redis(render);
    const governing = m.find(render.app, 'Service', workload.spec.serviceName);
    assert(governing.spec.clusterIP === 'None', `serviceName ${workload.spec.serviceName} is not a headless Service`);
    assert(m.selects(governing.spec.selector, workload.spec.template.metadata.labels),
      `Service ${governing.metadata.name} does not select the Redis pods`);
    const { container } = backend(render);
    const used = m.find(render.app, 'Service', effectiveEnv(container, 'REDIS_HOST'));
    assert(used.spec.clusterIP !== 'None', `REDIS_HOST names the headless Service ${used.metadata.name}`);
    assert(m.selects(used.spec.selector, workload.spec.template.metadata.labels),
      `REDIS_HOST names Service ${used.metadata.name}, which does not select the Redis pods`);
    return `StatefulSet governed by ${governing.metadata.name}; backends use ${used.metadata.name}`;
  },

  // The image starts lighttpd through start-lighttpd, which needs no shell,
  // and no manifest sets what it works out itself (REDIS_ADDRESS).
  'launcher'(render) {
    const entrypoint = src.dockerfileFinalStage().entrypoint || '';
    assert(/^\[\s*"[^"]*\/start-lighttpd"\s*\]$/.test(entrypoint),
      `the image's ENTRYPOINT is ${entrypoint}, not start-lighttpd in exec form`);
    const { container } = backend(render);
    for (const name of src.launcherDerivedVariables()) {
      assert(!envEntry(container, name), `the backend sets ${name}, which start-lighttpd works out itself`);
      for (const mode of ['cgi', 'fastcgi']) {
        assert(src.forwardedByMode(mode).includes(name), `cgi-bin/mode-${mode}.conf does not forward ${name}`);
      }
    }
    return `${entrypoint}; derives ${src.launcherDerivedVariables().join(' ')}`;
  },
};

// Runs the named check on the render in the given directory.
function main(name, dir) {
  if (!checks[name]) {
    console.log(`unknown check ${name}; known: ${Object.keys(checks).join(' ')}`);
    process.exit(2);
  }
  try {
    console.log(`ok: ${checks[name](m.loadRender(dir))}`);
  } catch (err) {
    console.log(`FAIL: ${err.message}`);
    process.exit(1);
  }
}

if (require.main === module) {
  main(process.argv[2], process.argv[3]);
}

module.exports = checks;
