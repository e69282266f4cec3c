// keepalive.js: COUNT clients that keep their connections alive, as
// browsers, Node, Go and nginx's upstream pool do: each has its own
// http.Agent with keepAlive and one socket, and reuses that socket for its
// next request unless the server answered "Connection: close".
//   busy: each client sends METHOD PATH (Content-Length: 0) again as soon as
//         an answer arrives, for SECONDS;
//   idle: each client sends one request, then leaves its connection open
//         and idle for SECONDS.
// Prints one JSON line: {"outcomes":{OUTCOME:COUNT,...}, "unanswered":N,
// "seconds":S}: OUTCOME is a status code or an error code ("ECONNRESET",
// "timeout": no answer within TIMEOUT_MS), UNANSWERED the clients that never
// got an answer.
//
//   node keepalive.js HOST PORT COUNT MODE METHOD PATH SECONDS TIMEOUT_MS
'use strict';

const http = require('http');

function main([host, port, count, mode, method, urlPath, seconds, timeoutMs]) {
  const outcomes = {};
  const started = Date.now();
  const until = started + Number(seconds) * 1000;
  const clients = [];
  const count1 = (what) => { outcomes[what] = (outcomes[what] || 0) + 1; };

  // Sends one request on client c's agent; calls done when it has settled.
  const send = (c, done) => {
    const req = http.request({
      host, port: Number(port), method, path: urlPath, agent: c.agent,
      headers: { 'Content-Length': 0 }, timeout: Number(timeoutMs),
    }, (res) => {
      res.resume();
      res.on('end', () => { c.answers++; count1(String(res.statusCode)); done(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => { count1(err.code || err.message); done(); });
    req.end();
  };

  // Runs client c: in busy mode until SECONDS have passed.
  const run = (c) => new Promise((resolve) => {
    const next = () => {
      if (mode === 'busy' && Date.now() < until) send(c, next);
      else resolve();
    };
    send(c, next);
  });

  for (let i = 0; i < Number(count); i++) {
    clients.push({ answers: 0, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) });
  }
  Promise.all(clients.map(run)).then(() => {
    const pause = Math.max(0, until - Date.now());
    setTimeout(() => {
      const unanswered = clients.filter((c) => c.answers === 0).length;
      console.log(JSON.stringify({ outcomes, unanswered, seconds: (Date.now() - started) / 1000 }));
      clients.forEach((c) => c.agent.destroy());
    }, pause);
  });
}

main(process.argv.slice(2));
