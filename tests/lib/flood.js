// flood.js: opens COUNT connections at once to HOST:PORT, sends one HTTP/1.1
// request on each (METHOD PATH, Content-Length: 0, Connection: close), and
// records what became of each connection:
//   the status code of the answer ("204", "503", ...);
//   a refusal, by its error code ("ECONNREFUSED", "ECONNRESET");
//   "closed" (closed without an answer) or "timeout" (no answer within
//   TIMEOUT_MS: the connection is then closed).
// Prints one JSON line: {"outcomes":{OUTCOME:COUNT,...},"seconds":S}.
// An answer counts once its status line arrives; the connection is then
// read to the end of the answer, and each distinct error answer (status 400
// and up) is written to the suite's error-body collection
// (tests/lib/error-bodies.bash: ERROR_BODIES_DIR, ERROR_BODIES_SUITE), with
// how many connections got it.
//
//   node flood.js HOST PORT COUNT METHOD PATH TIMEOUT_MS
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');

// Tells whether the bytes received hold a whole answer: its header, and as
// many body bytes as its Content-Length says (none given: until the close).
function answerComplete(received) {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(received.slice(0, end));
  return length !== null && received.length >= end + 4 + Number(length[1]);
}

// Writes each distinct error answer, with its count, to the collection.
function recordErrors(request, errors) {
  const dir = process.env.ERROR_BODIES_DIR;
  const suite = process.env.ERROR_BODIES_SUITE;
  if (!dir || !suite || !fs.existsSync(path.join(dir, suite))) return;
  let n = 0;
  for (const [answer, count] of errors) {
    const stem = path.join(dir, suite, `${process.pid}.${Date.now()}${n++}`);
    fs.writeFileSync(`${stem}.request`, request, 'latin1');
    fs.writeFileSync(`${stem}.reply`, answer, 'latin1');
    const file = path.basename(process.env.BATS_TEST_FILENAME || 'unknown', '.bats');
    const test = process.env.BATS_TEST_NAME || 'setup or teardown';
    fs.writeFileSync(`${stem}.meta`,
      `source=raw\nfile=${file}\ntest=${test}\nclient=node\ncount=${count}\n`);
  }
}

function main([host, port, count, method, urlPath, timeoutMs]) {
  const total = Number(count);
  const outcomes = {};
  const errors = new Map();
  const started = Date.now();
  let finished = 0;
  const request = `${method} ${urlPath} HTTP/1.1\r\nHost: flood\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
  process.on('exit', () => recordErrors(request, errors));

  for (let i = 0; i < total; i++) {
    let outcome;
    let received = '';
    let kept = false;
    const socket = net.connect({ host, port: Number(port) });
    const settle = (what) => {
      if (outcome !== undefined) return;
      outcome = what;
      outcomes[what] = (outcomes[what] || 0) + 1;
      if (++finished === total) {
        console.log(JSON.stringify({ outcomes, seconds: (Date.now() - started) / 1000 }));
      }
    };
    // Ends the connection; an error answer read so far is kept.
    const close = (what) => {
      settle(what);
      if (!kept && /^[45]\d\d$/.test(outcome)) {
        kept = true;
        errors.set(received, (errors.get(received) || 0) + 1);
      }
      socket.destroy();
    };
    socket.setTimeout(Number(timeoutMs), () => close('timeout'));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(received);
      if (status) settle(status[1]);
      if (status && answerComplete(received)) close(status[1]);
    });
    socket.on('error', (err) => close(err.code || 'error'));
    socket.on('close', () => close('closed'));
  }
}

main(process.argv.slice(2));
