// Drives a hybi echo server with Node's `ws` client (permessage-deflate
// offered, as ws does by default): text, multi-byte text, binary, a 1 MiB
// binary message, a ping, and a clean 1000 close. One line per check; exits
// non-zero on failure. Usage: node ws_client.js ws://127.0.0.1:PORT/
'use strict';
const WebSocket = require('ws');

const url = process.argv[2] || 'ws://127.0.0.1:9002/';
const ws = new WebSocket(url, { perMessageDeflate: true, handshakeTimeout: 10000 });
let failures = 0;
const check = (name, ok) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  if (!ok) failures += 1;
};
const big = Buffer.alloc(1 << 20, 0).map((_, i) => (i * 7) % 251);
const sends = [
  ['text echo', 'hello from node'],
  ['multi-byte text echo', 'κόσμε ✓ 😀 '.repeat(1000)],
  ['binary echo', Buffer.from([0, 1, 2, 254, 255])],
  ['1 MiB binary echo', big],
];
let at = 0;
const timer = setTimeout(() => { check('finished in time', false); process.exit(1); }, 60000);

ws.on('open', () => {
  console.log(`negotiated: Sec-WebSocket-Extensions: ${ws.extensions || '(none)'}`);
  ws.send(sends[0][1]);
});
ws.on('message', (data, isBinary) => {
  const [name, sent] = sends[at];
  const same = typeof sent === 'string' ? !isBinary && data.toString() === sent : isBinary && Buffer.compare(data, sent) === 0;
  check(name, same);
  at += 1;
  if (at < sends.length) ws.send(sends[at][1]);
  else ws.ping(Buffer.from('are you there'));
});
ws.on('pong', (data) => {
  check('ping answered with pong', data.toString() === 'are you there');
  ws.close(1000, 'done');
});
ws.on('close', (code) => {
  check('clean close code 1000', code === 1000);
  clearTimeout(timer);
  console.log(`node ws: ${sends.length + 2 - failures} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
});
ws.on('error', (e) => { check(`no error (${e.message})`, false); });
