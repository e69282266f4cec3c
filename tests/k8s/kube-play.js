// kube-play.js: turns the rendered pod specs of k8s/ (the backend Deployment
// and the Redis StatefulSet) into YAML that podman 4.3 can `kube play`, for
// the contract tests' kube target (tests/lib/target-kube.bash).
//
//   node kube-play.js RENDER_DIR OUT_DIR PREFIX HOST_PORT REDIS_IMAGE BACKEND_IMAGE [BACKEND_MODE]
//
// Writes OUT_DIR/redis.yaml and OUT_DIR/backend.yaml, and the Redis pod's
// readiness probe command, one argument a line, to OUT_DIR/redis-readiness-
// probe (the test runs it to wait for Redis). The pod specs (security
// contexts, read-only root, volumes and mounts, env, probes, args) are the
// rendered ones; only these changes are made, each because podman or the
// test needs it:
//   1. each workload's pod template becomes a Pod named PREFIX-<workload>
//      (podman 4.3 plays Pods and Deployments, not StatefulSets);
//   2. the StatefulSet's volumeClaimTemplate becomes the pod volume
//      persistentVolumeClaim PREFIX-<claim>-redis-0, as the StatefulSet
//      controller would do (podman makes a named volume of it);
//   3. ConfigMaps are renamed PREFIX-<name> (podman names volumes after them);
//   4. a secret volume becomes a ConfigMap volume (named PREFIX-<secret>)
//      with the same items as files: podman 4.3.1 writes secret volume
//      files still base64-encoded. (No pod takes a Secret as an environment
//      variable: the checks of tests/k8s.bats refuse that.);
//   5. the Redis image becomes REDIS_IMAGE (no official image offline), and
//      the backend image BACKEND_IMAGE (the same dev.local/d22/backend
//      unless the test run built another tag);
//   6. the backend's http port gets hostIP 127.0.0.1 and hostPort HOST_PORT,
//      so the tests reach it on loopback;
//   7. BACKEND_MODE, when given, replaces the backend's BACKEND_MODE value
//      (the documented cgi/fastcgi switch);
//   8. the backend's lifecycle hooks are dropped: podman 4.3.1 runs none
//      (`pod stop` returned in 0.3 s with a 5 s preStop, exec or sleep), and
//      its API types predate the sleep action (Kubernetes 1.29). The stop
//      sequence is checked offline instead (k8s.bats, graceful-stop), and
//      kube.bats checks that the hooks exec nothing.
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const m = require('./manifests');

// A deep copy of a plain object.
function clone(obj) {
  return JSON.parse(JSON.stringify(obj));
}

// The Secret with this name among the generated Secrets.
function secretNamed(render, name) {
  return m.find(render.secrets, 'Secret', name);
}

// Renames ConfigMap volumes and turns secret volumes into ConfigMap volumes
// (changes 3 and 4); returns the ConfigMaps the pod needs.
function configMapVolumes(render, spec, prefix) {
  const configMaps = [];
  for (const volume of spec.volumes || []) {
    if (volume.configMap) {
      const source = m.find(render.app, 'ConfigMap', volume.configMap.name);
      const name = `${prefix}-${source.metadata.name}`;
      configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: clone(source.data) });
      volume.configMap.name = name;
    } else if (volume.secret) {
      const secret = secretNamed(render, volume.secret.secretName);
      const name = `${prefix}-${secret.metadata.name}`;
      const data = {};
      for (const item of volume.secret.items) {
        data[item.path] = m.secretValue(secret, item.key);
      }
      configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
      volume.configMap = { name };
      delete volume.secret;
    }
  }
  return configMaps;
}

// The Pod (and the ConfigMaps it needs) for one workload (changes 1 to 4).
function podFor(render, workload, prefix) {
  const spec = clone(workload.spec.template.spec);
  for (const claim of workload.spec.volumeClaimTemplates || []) {
    const claimName = `${prefix}-${claim.metadata.name}-${workload.metadata.name}-0`;
    spec.volumes = [...(spec.volumes || []), { name: claim.metadata.name, persistentVolumeClaim: { claimName } }];
  }
  const configMaps = configMapVolumes(render, spec, prefix);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${prefix}-${workload.metadata.name}`, labels: clone(workload.spec.template.metadata.labels) },
    spec,
  };
  return [...configMaps, pod];
}

function main([renderDir, outDir, prefix, hostPort, redisImage, backendImage, backendMode]) {
  const render = m.loadRender(renderDir);
  const redisDocs = podFor(render, m.find(render.app, 'StatefulSet', 'redis'), prefix);
  const redisPod = redisDocs[redisDocs.length - 1];
  m.container({ spec: { template: redisPod } }, 'redis').image = redisImage;

  const backendDocs = podFor(render, m.find(render.app, 'Deployment', 'backend'), prefix);
  const backendPod = backendDocs[backendDocs.length - 1];
  const backend = m.container({ spec: { template: backendPod } }, 'backend');
  backend.image = backendImage;
  Object.assign(m.containerPort(backend, 'http'), { hostIP: '127.0.0.1', hostPort: Number(hostPort) });
  if (backendMode) {
    backend.env.find((e) => e.name === 'BACKEND_MODE').value = backendMode;
  }
  delete backend.lifecycle;

  fs.mkdirSync(outDir, { recursive: true });
  const write = (name, docs) => fs.writeFileSync(path.join(outDir, name),
    docs.map((d) => YAML.stringify(d)).join('---\n'));
  write('redis.yaml', redisDocs);
  write('backend.yaml', backendDocs);
  const redis = m.container({ spec: { template: redisPod } }, 'redis');
  fs.writeFileSync(path.join(outDir, 'redis-readiness-probe'), `${redis.readinessProbe.exec.command.join('\n')}\n`);
}

main(process.argv.slice(2));
