// dns-server.js: a DNS server for tests, on UDP and TCP port 53 of one
// loopback address, in a network namespace the test made. It logs every
// query it reads, one line "NAME TYPE" per query, to LOG.
//
//   node dns-server.js ADDRESS LOG answer NAME=IPV4...   answers A queries
//                                                        for NAME; no AAAA
//                                                        (NODATA); any other
//                                                        name: NXDOMAIN
//   node dns-server.js ADDRESS LOG silent                reads every query
//                                                        and never answers
//
// TCP connections are read and never answered in either mode: glibc uses
// TCP only for truncated answers, which this server never sends. It prints
// "ready" once it listens.
'use strict';

const dgram = require('dgram');
const fs = require('fs');
const net = require('net');

const TYPE_NAMES = { 1: 'A', 28: 'AAAA' };

// The question of a query: its name (lower case, no final dot), its type, and
// the offset just past it.
function parseQuestion(query) {
  const labels = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset];
    labels.push(query.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  offset += 1;
  const type = query.readUInt16BE(offset);
  return { name: labels.join('.').toLowerCase(), type, end: offset + 4 };
}

// The answer to a query: an A record for a known name, nothing (NOERROR) for
// another type of a known name, NXDOMAIN for an unknown name.
function answer(query, question, addresses) {
  const address = addresses.get(question.name);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
  const recursionDesired = query[2] & 0x01;
  header[2] = 0x84 | recursionDesired; // a response, authoritative
  header[3] = 0x80 | (address === undefined ? 3 : 0); // recursion available; NXDOMAIN
  header.writeUInt16BE(1, 4); // the question, copied
  const records = [];
  if (address !== undefined && question.type === 1) {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(1, 2); // type A
    record.writeUInt16BE(1, 4); // class IN
    record.writeUInt32BE(30, 6); // TTL, as CoreDNS gives Services
    record.writeUInt16BE(4, 10);
    address.split('.').forEach((byte, i) => { record[12 + i] = Number(byte); });
    records.push(record);
  }
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, question.end), ...records]);
}

function main([address, log, mode, ...pairs]) {
  const addresses = new Map(pairs.map((p) => p.split('=')).map(([n, a]) => [n.toLowerCase(), a]));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (query, peer) => {
    const question = parseQuestion(query);
    fs.appendFileSync(log, `${question.name} ${TYPE_NAMES[question.type] || question.type}\n`);
    if (mode === 'answer') udp.send(answer(query, question, addresses), peer.port, peer.address);
  });
  const tcp = net.createServer((socket) => {
    socket.on('data', () => fs.appendFileSync(log, 'tcp query\n'));
    socket.on('error', () => {});
  });
  for (const server of [udp, tcp]) {
    server.on('error', (err) => { console.log(`dns-server: ${err.message}`); process.exit(1); });
  }
  // "ready" on stdout once both sockets listen.
  udp.bind(53, address, () => tcp.listen(53, address, () => console.log('ready')));
  process.on('SIGTERM', () => process.exit(0));
}

main(process.argv.slice(2));
