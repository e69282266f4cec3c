// sources.js: reads what the manifests must agree with, from the project's
// own files: lighttpd's routes and settings, the variables the C programs
// read, the Dockerfile's final stage, and redis.conf directives.
'use strict';

const fs = require('fs');
const path = require('path');

const REPO_DIR = path.resolve(__dirname, '..', '..');

// The text of a file in the repository.
function read(relative) {
  return fs.readFileSync(path.join(REPO_DIR, relative), 'utf8');
}

// lighttpd.conf's routes: exact paths ($HTTP["url"] == "...") and patterns
// ($HTTP["url"] =~ "..."). True when path p is served by one of them.
function lighttpdServes(p) {
  const conf = read('lighttpd.conf');
  const exact = [...conf.matchAll(/\$HTTP\["url"\]\s*==\s*"([^"]*)"/g)].map((m) => m[1]);
  const patterns = [...conf.matchAll(/\$HTTP\["url"\]\s*=~\s*"([^"]*)"/g)].map((m) => new RegExp(m[1]));
  if (exact.length + patterns.length === 0) {
    throw new Error('lighttpd.conf has no $HTTP["url"] routes');
  }
  return exact.includes(p) || patterns.some((re) => re.test(p));
}

// lighttpd's graceful-shutdown timeout in seconds (8 unless lighttpd.conf sets it).
function lighttpdGracefulShutdownSeconds() {
  const m = read('lighttpd.conf').match(/"server\.graceful-shutdown-timeout"\s*=>\s*(\d+)/);
  return m ? Number(m[1]) : 8;
}

// The CGI/1.1 request variables (RFC 3875) that lighttpd sets per request.
const CGI_REQUEST_VARIABLE = /^(HTTP_[A-Z0-9_]+|AUTH_TYPE|CONTENT_LENGTH|CONTENT_TYPE|GATEWAY_INTERFACE|PATH_INFO|PATH_TRANSLATED|QUERY_STRING|REMOTE_ADDR|REMOTE_HOST|REMOTE_IDENT|REMOTE_USER|REQUEST_METHOD|REQUEST_URI|SCRIPT_NAME|SCRIPT_FILENAME|SERVER_NAME|SERVER_PORT|SERVER_PROTOCOL|SERVER_SOFTWARE|HTTPS)$/;

// The C sources linked into the programs lighttpd runs: the Makefile's
// SHARED and PROGRAMS (start-lighttpd.c, the launcher, is not among them).
function programSources() {
  const makefile = read('Makefile');
  const list = (name) => makefile.match(new RegExp(`^${name} = (.*)$`, 'm'))[1].trim().split(/\s+/);
  return [...list('SHARED'), ...list('PROGRAMS')].map((n) => `${n}.c`);
}

// The variables start-lighttpd works out itself and hands to the programs:
// it unsets any value it was given, so no manifest should set them.
function launcherDerivedVariables() {
  const source = read('cgi-bin/start-lighttpd.c');
  return [...source.matchAll(/\bunsetenv\(\s*"([A-Z][A-Z0-9_]*)"\s*\)/g)].map((m) => m[1]);
}

// A plain numeric lighttpd.conf setting ("server.max-connections = 384"),
// or the default given when lighttpd.conf does not set it.
function lighttpdNumber(name, fallback) {
  const escaped = name.replace(/[.-]/g, (c) => `\\${c}`);
  const m = read('lighttpd.conf').match(new RegExp(`^${escaped}\\s*=\\s*(\\d+)\\s*$`, 'm'));
  return m ? Number(m[1]) : fallback;
}

// The settings the C programs read from the environment: the string literals
// passed to getenv() and to wrappers whose names contain "env", less the CGI
// request variables.
function programSettings() {
  const dir = path.join(REPO_DIR, 'cgi-bin');
  const names = new Set();
  for (const file of programSources()) {
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of source.matchAll(/\b\w*env\w*\s*\(\s*"([A-Z][A-Z0-9_]*)"/g)) {
      if (!CGI_REQUEST_VARIABLE.test(m[1])) {
        names.add(m[1]);
      }
    }
  }
  return [...names].sort();
}

// The variables a lighttpd mode file forwards to the programs ("X" => env.X).
function forwardedByMode(mode) {
  const conf = read(`cgi-bin/mode-${mode}.conf`);
  return [...conf.matchAll(/"([A-Z0-9_]+)"\s*=>\s*env\.([A-Z0-9_]+)/g)]
    .filter((m) => m[1] === m[2])
    .map((m) => m[1]);
}

// The final stage of the Dockerfile: its ENV pairs, USER, STOPSIGNAL and
// ENTRYPOINT (as written).
function dockerfileFinalStage() {
  const lines = read('Dockerfile').replace(/\\\n/g, ' ').split('\n');
  const stageStart = lines.map((l) => /^\s*FROM\s/i.test(l)).lastIndexOf(true);
  const stage = { env: {}, user: undefined, stopSignal: undefined, entrypoint: undefined };
  for (const line of lines.slice(stageStart)) {
    const m = line.match(/^\s*(ENV|USER|STOPSIGNAL|ENTRYPOINT)\s+(.*)$/i);
    if (!m) continue;
    const [, instruction, rest] = m;
    if (/^ENV$/i.test(instruction)) {
      for (const pair of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
        stage.env[pair[1]] = pair[2].replace(/^"|"$/g, '');
      }
    } else if (/^USER$/i.test(instruction)) {
      stage.user = rest.trim();
    } else if (/^ENTRYPOINT$/i.test(instruction)) {
      stage.entrypoint = rest.trim();
    } else {
      stage.stopSignal = rest.trim();
    }
  }
  return stage;
}

// The directives of a redis.conf text: { name: [values as written] }, with
// the last occurrence winning as in Redis.
function redisDirectives(text) {
  const directives = {};
  for (const line of text.split('\n')) {
    const m = line.trim().match(/^([a-z][a-z0-9-]*)\s+(.*)$/);
    if (m) directives[m[1]] = m[2].trim();
  }
  return directives;
}

module.exports = {
  REPO_DIR,
  read,
  lighttpdServes,
  lighttpdGracefulShutdownSeconds,
  programSources,
  programSettings,
  launcherDerivedVariables,
  lighttpdNumber,
  forwardedByMode,
  dockerfileFinalStage,
  redisDirectives,
};
