// error-bodies.js: reads back the error answers the suites recorded
// (tests/lib/error-bodies.bash describes the collection) and checks their
// bodies for tests/error-bodies.bats.
//
//   node error-bodies.js answers DIR     every distinct error answer, as JSON
//   node error-bodies.js CHECK ANSWERS [KNOWN]
//                                        prints what breaks rule CHECK in the
//                                        answers (the output of "answers"),
//                                        one problem per line: "new ...", or
//                                        "known ..." when KNOWN lists it
//   node error-bodies.js CHECK - [KNOWN] the same for pages on stdin, one
//                                        "STATUS BODY" per line
//   node error-bodies.js found ANSWERS   what it holds: "ran FILE" and
//                                        "FILE STATUS CLIENT" lines
//   node error-bodies.js blind ANSWERS   the curl calls it could not see
//   node error-bodies.js names           the names the bodies must not hold
// CHECK is one of: shape, secrets, advice.
'use strict';

const fs = require('fs');
const path = require('path');

const REPO_DIR = path.resolve(__dirname, '..', '..');

// ---- Reading the collection ---------------------------------------------

// Splits curl's --trace output into its blocks: {dir: "send"|"recv",
// what: "header"|"data"|"SSL data", bytes: Buffer}, and {info: text}.
function traceBlocks(text) {
  const blocks = [];
  let block = null;
  for (const line of text.split('\n')) {
    const head = /^(=>|<=) (Send|Recv) (header|data|SSL data), \d+ bytes/.exec(line);
    if (head) {
      block = { dir: head[1] === '=>' ? 'send' : 'recv', what: head[3], hex: [] };
      blocks.push(block);
    } else if (line.startsWith('== Info: ')) {
      block = null;
      blocks.push({ info: line.slice(9) });
    } else if (block && /^[0-9a-f]{4}: /.test(line)) {
      block.hex.push(line.slice(6, 6 + 48).trim());
    }
  }
  for (const b of blocks) {
    if (b.hex) {
      const bytes = b.hex.join(' ').split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16));
      b.bytes = Buffer.from(bytes);
      delete b.hex;
    }
  }
  return blocks;
}

// Parses header lines "Name: value" into an object with lower-case names.
function parseHeaders(lines) {
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

// Decodes a chunked body; returns null when it is not a whole chunked body.
function dechunk(body) {
  const parts = [];
  let at = 0;
  for (;;) {
    const end = body.indexOf('\r\n', at);
    if (end < 0) return null;
    const size = parseInt(body.slice(at, end).split(';')[0], 16);
    if (Number.isNaN(size)) return null;
    at = end + 2;
    if (size === 0) return Buffer.concat(parts);
    if (at + size > body.length) return null;
    parts.push(body.subarray(at, at + size));
    at += size + 2;
  }
}

// Finishes an answer: the body as its headers frame it, and any doubt about
// it in .problem (a body cut short cannot be judged).
function finishAnswer(answer) {
  let body = answer.rawBody;
  delete answer.rawBody;
  if (/chunked/i.test(answer.headers['transfer-encoding'] || '')) {
    const whole = dechunk(body);
    if (whole === null) answer.problem = 'a chunked body that did not arrive whole';
    else body = whole;
  } else if (answer.headers['content-length'] !== undefined && answer.method !== 'HEAD') {
    const length = Number(answer.headers['content-length']);
    if (body.length < length) answer.problem = `${body.length} of ${length} body bytes arrived`;
    else body = body.subarray(0, length);
  }
  if (answer.headers['content-encoding']) answer.problem = 'an encoded body';
  answer.body = body.toString('utf8');
  answer.contentType = answer.headers['content-type'] || '';
  return answer;
}

// Tells whether answer a, with a Content-Length, still lacks body bytes.
function lacksBody(a) {
  const length = a.headers['content-length'];
  return length !== undefined && a.method !== 'HEAD' && a.rawBody.length < Number(length);
}

// The answer a data block belongs to. Over HTTP/1 it is the last one
// started. The streams of one HTTP/2 connection (curl --parallel)
// interleave, and curl 7.88's trace does not say which stream a block is
// from: a stream's headers may come before the body of one started
// earlier. So a block goes to the earliest HTTP/2 answer still short of
// its Content-Length, else to the last one started.
function bodyOwner(started, current) {
  return started.find((a) => a.multiplexed && lacksBody(a)) || current;
}

// Reads the answers out of a curl --trace. A status line starts an answer;
// header lines and data follow it (bodyOwner says which answer data goes
// to). The request sent last names its method.
function answersFromTrace(text) {
  const answers = [];
  const started = [];
  const ports = new Set();
  let request = { method: '', target: '' };
  let current = null;
  let telnet = false;
  const sent = [];
  const received = [];
  for (const block of traceBlocks(text)) {
    if (block.info !== undefined) {
      const port = / port (\d+)/.exec(block.info);
      if (/^Connected to /.test(block.info) && port) ports.add(port[1]);
      continue;
    }
    if (block.what === 'SSL data') continue;
    if (block.dir === 'send' && block.what === 'header') {
      const line = /^(\S+) (\S+) HTTP\//.exec(block.bytes.toString('latin1'));
      if (line) request = { method: line[1], target: line[2] };
      continue;
    }
    if (block.dir === 'send') {
      sent.push(block.bytes);
      continue;
    }
    if (block.what === 'data' && current === null && answers.length === 0) telnet = true;
    if (telnet) {
      received.push(block.bytes);
      continue;
    }
    if (block.what === 'header') {
      const text = block.bytes.toString('latin1');
      const lines = (text.endsWith('\r\n') ? text.slice(0, -2) : text).split('\r\n');
      const status = /^HTTP\/[\d.]+ (\d{3})/.exec(lines[0]);
      if (status) {
        if (current && current.status >= 200) started.push(current);
        current = { status: Number(status[1]), headers: {}, lines: [], rawBody: Buffer.alloc(0),
          method: request.method, target: request.target, done: false,
          multiplexed: /^HTTP\/[23]/.test(lines[0]) };
        lines.shift();
      }
      if (!current) continue;
      for (const line of lines) {
        if (line === '') current.done = true;
        else if (!current.done) Object.assign(current.headers, parseHeaders([line]));
      }
    } else if (current) {
      const owner = bodyOwner(started, current);
      owner.rawBody = Buffer.concat([owner.rawBody, block.bytes]);
    }
  }
  if (current && current.status >= 200) started.push(current);
  for (const answer of started) {
    delete answer.multiplexed;
    answers.push(finishAnswer(answer));
  }
  if (telnet) answers.push(...answersFromBytes(Buffer.concat(sent), Buffer.concat(received)));
  return { answers, ports };
}

// Reads the answers out of raw bytes received (one or more HTTP/1 answers,
// pipelined), pairing the n-th final answer with the n-th request line in
// the bytes sent, whose method tells whether a body may follow.
function answersFromBytes(request, reply) {
  const methods = [];
  const requestLine = /(?:^|\n)([!#$%&'*+.^_`|~0-9A-Za-z-]+) \S+ HTTP\/\d\.\d\r?\n/g;
  for (let m; (m = requestLine.exec(request.toString('latin1'))) !== null;) methods.push(m[1]);
  const answers = [];
  const text = reply.toString('latin1');
  let at = text.search(/^HTTP\/\d/m);
  while (at >= 0 && at < text.length) {
    const head = /^HTTP\/\d(?:\.\d)? (\d{3})[^\r\n]*\r?\n/.exec(text.slice(at));
    if (!head) break;
    const headerEnd = text.indexOf('\r\n\r\n', at);
    const end = headerEnd < 0 ? text.length : headerEnd + 4;
    const headers = parseHeaders(text.slice(at + head[0].length, end).split('\r\n'));
    const status = Number(head[1]);
    let bodyEnd = end;
    const method = status >= 200 ? methods.shift() || '' : '';
    if (status >= 200 && status !== 204 && status !== 304 && method !== 'HEAD') {
      if (headers['content-length'] !== undefined) bodyEnd = end + Number(headers['content-length']);
      else {
        const next = text.slice(end).search(/^HTTP\/\d(?:\.\d)? \d{3} /m);
        bodyEnd = next < 0 ? text.length : end + next;
      }
    }
    if (status >= 200) {
      answers.push(finishAnswer({ status, headers, method, target: '',
        rawBody: reply.subarray(end, Math.min(bodyEnd, text.length)) }));
    }
    const next = text.slice(bodyEnd).search(/^HTTP\/\d/m);
    at = next < 0 ? -1 : bodyEnd + next;
  }
  return answers;
}

// Reads a CGI response written by a program run by hand: "Status: N ...",
// headers, a blank line, the body.
function answersFromCgi(reply) {
  const text = reply.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const headers = parseHeaders(text.slice(0, end < 0 ? text.length : end).split('\r\n'));
  const status = Number((headers.status || '').split(' ')[0]);
  return [finishAnswer({ status, headers, method: '', target: '',
    rawBody: end < 0 ? Buffer.alloc(0) : reply.subarray(end + 4) })];
}

// Reads "key=value" lines.
function readMeta(file) {
  const meta = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) meta[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return meta;
}

// Turns bats' encoded test function name back into the test's name.
function testName(encoded) {
  if (!/^test_/.test(encoded)) return encoded;
  return encoded.slice(5).replace(/_/g, ' ').replace(/-([0-9a-f]{2})/g,
    (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

// Reads the whole collection: {suites: {NAME: {file, ports}}, answers: [...],
// blind: [...], ports: Set}. Each answer carries where it was seen.
function readCollection(dir) {
  const suites = {};
  const answers = [];
  const blind = [];
  const ports = new Set();
  for (const suite of fs.readdirSync(dir).sort()) {
    const suiteDir = path.join(dir, suite);
    if (suite === 'bin' || !fs.statSync(suiteDir).isDirectory()) continue;
    const ranFile = path.join(suiteDir, 'ran');
    const file = fs.existsSync(ranFile) ? readMeta(ranFile).file : suite;
    suites[suite] = { file };
    const portsFile = path.join(suiteDir, 'ports');
    if (fs.existsSync(portsFile)) {
      for (const line of fs.readFileSync(portsFile, 'utf8').split('\n')) {
        if (line.split(' ')[1]) ports.add(line.split(' ')[1]);
      }
    }
    for (const name of fs.readdirSync(suiteDir).filter((n) => n.endsWith('.meta')).sort()) {
      const stem = path.join(suiteDir, name.slice(0, -5));
      const meta = readMeta(`${stem}.meta`);
      const where = { suite, file: meta.file, test: testName(meta.test || ''),
        client: meta.source === 'raw' ? meta.client : meta.source, args: meta.args || '' };
      let found = [];
      if (meta.kind === 'blind') {
        blind.push(where);
        continue;
      }
      if (meta.source === 'curl') {
        const read = answersFromTrace(fs.readFileSync(`${stem}.trace`, 'latin1'));
        read.ports.forEach((p) => ports.add(p));
        found = read.answers;
      } else if (meta.source === 'cgi') {
        found = answersFromCgi(fs.readFileSync(`${stem}.reply`));
      } else {
        const request = fs.existsSync(`${stem}.request`) ? fs.readFileSync(`${stem}.request`) : Buffer.alloc(0);
        found = answersFromBytes(request, fs.readFileSync(`${stem}.reply`));
      }
      for (const answer of found) {
        if (answer.status < 400) continue;
        // curl --fail stops reading at an error's headers: the suite never
        // received that body, so there is none to judge.
        if (meta.stops_at_errors === 'yes' && /body bytes arrived/.test(answer.problem || '')) {
          answer.unread = true;
          delete answer.problem;
        }
        answers.push({ ...answer, count: Number(meta.count || 1), where });
      }
    }
  }
  return { suites, answers, blind, ports };
}

// Groups answers that are the same to a client (status, content type, body,
// and whether it answered HEAD), keeping where each was seen.
function distinctAnswers(answers) {
  const groups = new Map();
  for (const a of answers) {
    const key = JSON.stringify([a.status, a.contentType, a.body, a.method === 'HEAD', a.problem || '',
      programWrote(a), Boolean(a.unread)]);
    if (!groups.has(key)) {
      groups.set(key, { status: a.status, contentType: a.contentType, body: a.body,
        head: a.method === 'HEAD', problem: a.problem || '', program: programWrote(a), unread: Boolean(a.unread),
        count: 0, seen: [], found: [] });
    }
    const g = groups.get(key);
    g.count += a.count;
    // "FILE CLIENT": which suite file received it, through which client.
    const found = `${a.where.file} ${a.where.client}`;
    if (!g.found.includes(found)) g.found.push(found);
    const label = `[${a.where.suite}] ${a.where.test}`;
    if (!g.seen.includes(label)) g.seen.push(label);
  }
  return [...groups.values()].sort((x, y) => x.status - y.status || (x.body < y.body ? -1 : 1));
}

// Tells whether one of the programs (bitcoins.cgi, healthz.cgi) wrote the
// answer: they send Cache-Control: no-store with every answer
// (cgi-bin/cgi.c), and lighttpd's and the front's own pages have none.
function programWrote(answer) {
  return answer.where.client === 'cgi' || /no-store/.test(answer.headers['cache-control'] || '');
}

// ---- The rules ---------------------------------------------------------

// Reads a file of the repository, without its comments (C's /* */ and //,
// and whole-line # comments of the configs), so that only code counts.
function source(file) {
  const text = fs.readFileSync(path.join(REPO_DIR, file), 'utf8');
  if (/\.[ch]$/.test(file)) return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/^\s*\/\/.*$/gm, '');
  return text.replace(/^\s*#.*$/gm, '');
}

// Returns every match of group 1 of the regular expression in the text.
function allOf(text, regexp) {
  return [...text.matchAll(regexp)].map((m) => m[1]);
}

// The names a public body must not hold, each list derived from the code
// that defines them, so that a new setting or key is covered at once:
// - variables: every all-capitals string a call in config.c or
//   start-lighttpd.c takes first (getenv("X"), env_long("X", ...),
//   default_to("X", ...)), and every env.X of lighttpd.conf and the mode
//   configs;
// - keys: every string #define of store.c whose name says KEY or PREFIX;
// - publicNames: the API's own words (its paths' segments, the query
//   parameter of amount.c, the JSON field of cgi.c), which a key may share;
// - hosts: the default host of config.c and the Services of k8s/;
// - ports: the default ports (config.c's DEFAULT_*PORT, start-lighttpd.c's
//   PORT default), and the suites' own, given by the caller.
function forbiddenNames() {
  const programs = ['cgi-bin/config.c', 'cgi-bin/start-lighttpd.c'].map(source).join('\n');
  const configs = ['lighttpd.conf', ...fs.readdirSync(path.join(REPO_DIR, 'cgi-bin'))
    .filter((f) => /^mode-.*\.conf$/.test(f)).map((f) => `cgi-bin/${f}`)].map(source).join('\n');
  const variables = new Set([
    ...allOf(programs, /\b[a-z_]+\(\s*"([A-Z][A-Z0-9_]*)"/g),
    ...allOf(configs, /\benv\.([A-Za-z_][A-Za-z0-9_]*)/g),
  ]);
  const store = source('cgi-bin/store.c');
  const keys = new Set(allOf(store, /^#define\s+\w*(?:KEY|PREFIX)\w*\s+"([^"]+)"/gm));
  const routes = allOf(source('lighttpd.conf'), /\$HTTP\["url"\]\s*(?:==|=~)\s*"([^"]+)"/g);
  const publicNames = new Set([
    ...routes.join(' ').split(/[^A-Za-z0-9]+/).filter((w) => w.length > 1),
    ...allOf(source('cgi-bin/amount.c'), /#define\s+AMOUNT_PARAMETER\s+"([^"]+)"/g),
    ...allOf(source('cgi-bin/cgi.c'), /\{\\"([a-z_]+)\\":%/g),
  ]);
  const services = fs.readdirSync(path.join(REPO_DIR, 'k8s')).filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => source(`k8s/${f}`).split(/^---$/m))
    .filter((doc) => /^kind:\s*Service\s*$/m.test(doc))
    .map((doc) => /^metadata:\s*\n(?:\s+.*\n)*?\s+name:\s*(\S+)/m.exec(doc)?.[1]).filter(Boolean);
  const hosts = new Set(['localhost', ...services,
    ...allOf(programs, /#define\s+DEFAULT_\w*HOST\s+"([^"]+)"/g)]);
  const ports = new Set([
    ...allOf(programs, /#define\s+DEFAULT_\w*PORT\s+(\d+)/g),
    ...allOf(programs, /default_to\("PORT",\s*"(\d+)"\)/g),
  ]);
  return { variables, keys, publicNames, hosts, ports };
}

// Escapes text for a regular expression.
function quote(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The error message of a body that has the right shape, else the body.
function messageOf(body) {
  try {
    const parsed = JSON.parse(body);
    if (typeof parsed.error === 'string') return parsed.error;
  } catch (e) { /* not JSON: judge the text as it is */ }
  return body;
}

// Rule "shape": a JSON object {"error":"..."} with one non-empty string,
// sent as application/json; an answer to HEAD has no body at all (RFC 9110
// 9.3.2), so only its Content-Type is judged. A body that did not arrive
// whole cannot be judged, and fails.
function checkShape(answer) {
  const problems = [];
  if (answer.problem) return [`cannot be judged: ${answer.problem}`];
  if (!/^application\/json(\s*;.*)?$/i.test(answer.contentType)) {
    problems.push(`Content-Type is "${answer.contentType}", not application/json`);
  }
  if (answer.head) {
    if (answer.body !== '') problems.push('an answer to HEAD has a body');
    return problems;
  }
  let parsed;
  try {
    parsed = JSON.parse(answer.body);
  } catch (e) {
    return [...problems, 'the body is not JSON'];
  }
  const keys = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
  if (keys.length !== 1 || keys[0] !== 'error' || typeof parsed.error !== 'string' || parsed.error.trim() === '') {
    problems.push('the body is not {"error":"..."} with one non-empty message');
  }
  return problems;
}

// The software the bank runs on: a client needs none of these names, and
// each tells an attacker what to aim at. Bodies speak of "the bank's
// storage", "the server" or "the program serving this request" instead.
const COMPONENTS = ['redis', 'valkey', 'hiredis', 'lua', 'lighttpd', 'nginx', 'fastcgi', 'fcgi', 'libfcgi',
  'cgi', 'glibc', 'openssl', 'kubernetes', 'kubelet', 'pod', 'podman', 'debian'];

// Rule "secrets": no internal component, configuration variable, Redis
// key or key prefix, host name, address or port, file path or version in
// the body. A key that is
// also one of the API's public words ("bitcoins" is the total's key and
// the query parameter) counts only where the body speaks of it as a key.
// Publicly routed paths ("/v1/bitcoins", "/healthz") are not file paths.
// Protocol versions (HTTP/1.1) are not software versions.
function checkSecrets(answer, names, ports) {
  const text = answer.head ? '' : answer.body;
  const problems = [];
  const words = (list, flags) => [...list].filter((w) => new RegExp(`(^|[^A-Za-z0-9_])${quote(w)}($|[^A-Za-z0-9_])`, flags).test(text));
  for (const c of words(COMPONENTS, 'i')) problems.push(`names the component ${c}`);
  for (const v of words(names.variables, '')) problems.push(`names the configuration variable ${v}`);
  for (const key of names.keys) {
    const k = quote(key);
    const asKey = names.publicNames.has(key)
      ? new RegExp(`\\bkeys?\\s+["'\`]?${k}\\b|\\b${k}["'\`]?\\s+key\\b|\\b(GET|SET|INCRBY|DEL|EXPIRE|TTL)\\s+${k}\\b`, 'i')
      : new RegExp(`(^|[^A-Za-z0-9_])${k}`, 'i');
    if (asKey.test(text)) problems.push(`names the Redis key ${key}`);
  }
  for (const h of words(names.hosts, 'i')) problems.push(`names the host ${h}`);
  for (const ip of text.match(/(?<![\d.])\d{1,3}(\.\d{1,3}){3}(?![\d.])|\[?[0-9a-f]*::[0-9a-f:]*\]?(?=[^0-9a-z]|$)/gi) || []) {
    if (/\d/.test(ip) || ip.includes('::')) problems.push(`names the address ${ip}`);
  }
  if (/\.svc\b|\.cluster\.local\b|\.nip\.io\b/i.test(text)) problems.push('names a cluster or test host name');
  for (const port of [...names.ports, ...ports]) {
    if (new RegExp(`(?<![\\d.])${port}(?![\\d.])`).test(text)) problems.push(`names the port ${port}`);
  }
  const routes = [...names.publicNames].map((w) => w.toLowerCase());
  for (const p of text.match(/(?<=^|[\s"'(=,;])\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*/g) || []) {
    const segments = p.split('/').filter(Boolean);
    if (!segments.every((s) => routes.includes(s.toLowerCase()))) problems.push(`names the file path ${p}`);
  }
  for (const f of text.match(/\b[\w-]+\.(c|h|conf|sh|bash|bats|js|json|html|log|pem|crt|key|sock|aof|rdb|ya?ml)\b/g) || []) {
    problems.push(`names the file ${f}`);
  }
  for (const v of text.match(/\b(lighttpd|nginx|redis|valkey|hiredis|openssl|debian|ubuntu|glibc|libfcgi|node(js)?)[ /-]?v?\d+(\.\d+)*\b|\bv?\d+\.\d+\.\d+\b/gi) || []) {
    problems.push(`names the version ${v}`);
  }
  return problems;
}

// Words that start an instruction to the client: the actions a client of
// this API can take (send, retry, use, check, wait...).
const ACTIONS = ['send', 'resend', 'retry', 'try', 'use', 'give', 'check', 'fix', 'wait', 'shorten',
  'remove', 'drop', 'omit', 'split', 'reduce', 'lower', 'choose', 'pick', 'add', 'read', 'repeat',
  'ask', 'contact', 'tell', 'put', 'write', 'encode', 'keep', 'deposit'];
// Words that name a part of the request, which the client controls.
const REQUEST_PARTS = ['request', 'url', 'query', 'path', 'method', 'header', 'headers', 'body', 'amount',
  'deposit', 'post', 'get', 'head', 'key', 'content-length'];
// Words that name the server side, which the client does not control.
const SERVER_PARTS = ['operator', 'server', 'administrator', 'we', 'it', 'redis', 'backend', 'program'];

// The request parts the code names: amount.c's parameter and the headers
// the programs read (cgi.c's HTTP_X variables, as header names).
function requestParts() {
  const cgi = source('cgi-bin/cgi.c');
  return [...REQUEST_PARTS,
    ...allOf(source('cgi-bin/amount.c'), /#define\s+AMOUNT_PARAMETER\s+"([^"]+)"/g),
    ...allOf(cgi, /"HTTP_([A-Z_]+)"/g).map((h) => h.toLowerCase().replace(/_/g, '-'))];
}

// Rule "advice": the message tells the client what to do. It does when a
// clause (the message's start, or after ; : , "(" or the words or, then,
// and, so) starts with one of ACTIONS: an imperative, which is how English
// gives an instruction ("send Content-Length: 0", "try again shortly").
// It also does when a clause states what the request must be: a subject
// naming a part of the request the client controls, then must, needs or
// should ("bitcoins must be at least 1"). A message that only says what
// went wrong ("this method is not allowed here"), or what someone else must
// do ("an operator must repair it"), fails.
function checkAdvice(answer, parts) {
  if (answer.head) return [];
  const message = messageOf(answer.body);
  const clauses = message.split(/[;:,(]|\s(?:or|then|and|so)\s/i).map((c) => c.trim().toLowerCase());
  for (const clause of clauses) {
    const first = clause.split(/\s+/)[0];
    if (ACTIONS.includes(first)) return [];
    const requirement = /^(.*?)\b(must|needs?|should)\b/.exec(clause);
    if (requirement) {
      const subject = requirement[1].split(/[^a-z0-9-]+/).filter(Boolean);
      if (subject.some((w) => parts.includes(w)) && !subject.some((w) => SERVER_PARTS.includes(w))) return [];
    }
  }
  return ['says what went wrong but not what the client should do'];
}

// Runs rule NAME over the answers; returns one {answer, problem} per problem.
function runCheck(name, answers, ports) {
  const names = forbiddenNames();
  const parts = requestParts();
  const checks = {
    shape: (a) => checkShape(a),
    secrets: (a) => checkSecrets(a, names, ports),
    advice: (a) => checkAdvice(a, parts),
  };
  if (!checks[name]) throw new Error(`no rule ${name}`);
  return answers.filter((a) => !a.unread).flatMap((answer) => [...new Set(checks[name](answer))].map((problem) => ({ answer, problem })));
}

// Describes a problem: "STATUS program|server BODY: PROBLEM | seen in: ...".
function describe({ answer, problem }) {
  const origin = answer.program ? 'program' : 'server';
  const head = answer.head ? ' (HEAD)' : '';
  const body = answer.body.replace(/\n$/, '');
  const shown = body.length > 300 ? `${body.slice(0, 300)}...` : body;
  return `${answer.status}${head} ${origin} ${JSON.stringify(shown)}: ${problem}` +
    (answer.seen ? ` | seen in: ${answer.seen.slice(0, 3).join('; ')}` : '');
}

// Sorts the problems of rule NAME against the known ones (lines
// "RULE|MESSAGE" of file KNOWN): "known" when a program wrote a body
// whose message is listed, else "new"; "stale" for a listed message that a
// program sent without this problem. Returns the lines to print.
function sortProblems(name, answers, problems, knownFile) {
  const known = new Set((knownFile ? fs.readFileSync(knownFile, 'utf8') : '').split('\n')
    .filter((l) => l.startsWith(`${name}|`)).map((l) => l.slice(name.length + 1)));
  const lines = problems.map((p) => {
    const listed = p.answer.program && known.has(messageOf(p.answer.body));
    return `${listed ? 'known' : 'new'} ${describe(p)}`;
  });
  const failing = new Set(problems.map((p) => messageOf(p.answer.body)));
  const sent = new Set(answers.filter((a) => a.program).map((a) => messageOf(a.body)));
  for (const message of known) {
    if (sent.has(message) && !failing.has(message)) lines.push(`stale ${name}|${message}`);
  }
  return lines;
}

module.exports = { readCollection, distinctAnswers, answersFromTrace, answersFromBytes, answersFromCgi,
  forbiddenNames, runCheck };

if (require.main === module) {
  const [command, file] = process.argv.slice(2);
  if (command === 'answers') {
    const c = readCollection(file);
    console.log(JSON.stringify({ suites: c.suites, blind: c.blind, ports: [...c.ports].sort(),
      answers: distinctAnswers(c.answers) }, null, 1));
  } else if (command === 'found') {
    // What the collection holds: "ran FILE" per suite file that ran (but
    // the one named third), "FILE STATUS CLIENT" per answer.
    const c = JSON.parse(fs.readFileSync(file, 'utf8'));
    const lines = new Set();
    for (const suite of Object.values(c.suites)) if (suite.file !== process.argv[4]) lines.add(`ran ${suite.file}`);
    for (const a of c.answers.filter((x) => !x.unread)) {
      for (const f of a.found) lines.add(`${f.split(' ')[0]} ${a.status} ${f.split(' ')[1]}`);
    }
    if (lines.size) console.log([...lines].sort().join('\n'));
  } else if (command === 'blind') {
    // The curl calls whose answers the collection could not see.
    const c = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const b of c.blind) console.log(`[${b.suite}] ${b.test}: curl ${b.args}`);
  } else if (command === 'names') {
    const n = forbiddenNames();
    for (const [list, values] of Object.entries(n)) console.log(`${list}: ${[...values].join(' ')}`);
  } else {
    // The answers of the collection (FILE, from "answers"), or pages given
    // on stdin (FILE "-") as "STATUS BODY" lines, as a server sends them.
    let answers;
    let ports = [];
    if (file === '-') {
      answers = fs.readFileSync(0, 'utf8').split('\n').filter(Boolean).map((line) => {
        const [status, ...body] = line.split(' ');
        return { status: Number(status), contentType: 'application/json', body: body.join(' '),
          head: false, program: false };
      });
    } else {
      const c = JSON.parse(fs.readFileSync(file, 'utf8'));
      answers = c.answers;
      ports = c.ports.filter((p) => Number(p) >= 1024);
    }
    const lines = sortProblems(command, answers, runCheck(command, answers, ports), process.argv[4]);
    if (lines.length) console.log(lines.join('\n'));
  }
}
