// flood.js: opens COUNT connections at once to HOST:PORT, sends one HTTP/1.1
// request on each (METHOD PATH, Content-Length: 0, Connection: close), and
// records what became of each connection:
//   the status code of the answer ("204", "503", ...);
//   a refusal, by its error code ("ECONNREFUSED", "ECONNRESET");
//   "closed" (closed without an answer) or "timeout" (no answer within
//   TIMEOUT_MS: the connection is then closed).
// Prints one JSON line: {"outcomes":{OUTCOME:COUNT,...},"seconds":S}.
//
//   node flood.js HOST PORT COUNT METHOD PATH TIMEOUT_MS
'use strict';

const net = require('net');

function main([host, port, count, method, path, timeoutMs]) {
  const total = Number(count);
  const outcomes = {};
  const started = Date.now();
  let finished = 0;
  const request = `${method} ${path} HTTP/1.1\r\nHost: flood\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;

  for (let i = 0; i < total; i++) {
    let outcome;
    let received = '';
    const socket = net.connect({ host, port: Number(port) });
    const settle = (what) => {
      if (outcome !== undefined) return;
      outcome = what;
      outcomes[what] = (outcomes[what] || 0) + 1;
      socket.destroy();
      if (++finished === total) {
        console.log(JSON.stringify({ outcomes, seconds: (Date.now() - started) / 1000 }));
      }
    };
    socket.setTimeout(Number(timeoutMs), () => settle('timeout'));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(received);
      if (status) settle(status[1]);
    });
    socket.on('error', (err) => settle(err.code || 'error'));
    socket.on('close', () => settle('closed'));
  }
}

main(process.argv.slice(2));
