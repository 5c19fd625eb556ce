// The chat example (examples/chat) in a real browser: Debian's Chromium
// driven by playwright-core, against a server that scripts/browser_test.sh
// started on loopback. Each check prints "ok - ..." or "not ok - ...";
// the last line counts them. Every wait is bounded.
//
// Environment: CHAT_URL (http://127.0.0.1:PORT), CHAT_PID (the server's
// process: SIGTERM stops it), CHAT_LOG (the server's output),
// CHAT_SHOT (where the screenshot goes), CHROMIUM (the browser binary),
// CHAT_EXTRA_ORIGIN (an origin the server was told to allow, if any).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const { chromium } = require('playwright-core');

const BASE = process.env.CHAT_URL;
const SERVER_PID = Number(process.env.CHAT_PID);
const LOG = process.env.CHAT_LOG;
const SHOT = process.env.CHAT_SHOT || 'target/browser/chat.png';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 10000;
const WS_BASE = BASE.replace(/^http:/, 'ws:');

let passed = 0;
let failed = 0;
const timings = [];

function check(name, ok, detail) {
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${detail === undefined ? '' : ` (${detail})`}`);
  return ok;
}

async function phase(name, body) {
  const start = Date.now();
  try {
    await body();
  } finally {
    const ms = Date.now() - start;
    timings.push([name, ms]);
    console.log(`# ${name}: ${ms} ms`);
  }
}

const events = (page) => page.evaluate(() => window.chat.events);

// Waits until the page recorded an event matching `want` (its fields, and
// `data`'s fields for a message) at index `from` or later.
async function waitEvent(page, want, from = 0, timeout = WAIT) {
  try {
    await page.waitForFunction(
      ([want, from]) => window.chat && window.chat.events.slice(from).some((e) =>
        Object.entries(want).every(([k, v]) => (k === 'data'
          ? Object.entries(v).every(([dk, dv]) => JSON.stringify(e.data && e.data[dk]) === JSON.stringify(dv))
          : e[k] === v))),
      [want, from],
      { timeout },
    );
    return true;
  } catch (e) {
    return false;
  }
}

// Index of the first recorded event matching `want`, or -1.
function find(list, want, from = 0) {
  for (let i = from; i < list.length; i += 1) {
    const e = list[i];
    const hit = Object.entries(want).every(([k, v]) => (k === 'data'
      ? Object.entries(v).every(([dk, dv]) => JSON.stringify(e.data && e.data[dk]) === JSON.stringify(dv))
      : e[k] === v));
    if (hit) return i;
  }
  return -1;
}

// Opens a WebSocket from `page`, optionally sends one message once open,
// and resolves with what happened once it closed (or after `timeout`).
function probe(page, url, send, timeout = 8000) {
  return page.evaluate(([url, send, timeout]) => new Promise((resolve) => {
    const seen = [];
    const ws = new WebSocket(url, ['chat.v1']);
    const timer = setTimeout(() => {
      seen.push({ kind: 'timeout' });
      resolve(seen);
    }, timeout);
    ws.onopen = () => {
      seen.push({ kind: 'open', protocol: ws.protocol, extensions: ws.extensions });
      if (send && send.text !== undefined) ws.send(send.text);
      if (send && send.binary !== undefined) ws.send(new Uint8Array(send.binary));
    };
    ws.onerror = () => seen.push({ kind: 'error' });
    ws.onmessage = () => seen.push({ kind: 'message' });
    ws.onclose = (ev) => {
      seen.push({ kind: 'close', code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
      clearTimeout(timer);
      resolve(seen);
    };
  }), [url, send, timeout]);
}

const kinds = (seen) => seen.map((e) => e.kind).filter((k) => k !== 'message').join(',');
const closeOf = (seen) => seen.find((e) => e.kind === 'close') || {};

// An HTTP request from Node: resolves with the status (101 for an
// upgrade, whose socket is then dropped) and the headers.
function request(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${BASE}${path}`, { method, headers, timeout: 5000 });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode, headers: res.headers });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

function upgrade(path, { origin = BASE, cookie, protocol, extensions } = {}) {
  const headers = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
  };
  if (origin) headers.Origin = origin;
  if (cookie) headers.Cookie = cookie;
  if (protocol) headers['Sec-WebSocket-Protocol'] = protocol;
  if (extensions) headers['Sec-WebSocket-Extensions'] = extensions;
  return request('GET', path, headers);
}

function login(name, headers = {}) {
  return request('POST', '/login', {
    'Content-Type': 'application/x-www-form-urlencoded',
    ...headers,
  }, `name=${name}`);
}

// A WebSocket client that completes the handshake and then stops reading
// (its socket paused), so that the server's queue for it fills up.
function stalledClient(path, cookie) {
  const { hostname, port } = new URL(BASE);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no 101 in 5 s')); }, 5000);
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      const status = head.slice(0, end).toString('latin1').split(' ')[1];
      resolve({ socket, status: Number(status), rest: head.slice(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write([
      `GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, `Origin: ${BASE}`, `Cookie: ${cookie}`,
      'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Protocol: chat.v1', '', ''].join('\r\n'));
  });
}

// Reads the server's frames from `client` until its Close; resolves with
// the frames counted and the Close's code and reason (or null).
function readUntilClose(client, timeout = WAIT) {
  return new Promise((resolve) => {
    let buf = client.rest;
    let frames = 0;
    const done = (close) => {
      clearTimeout(timer);
      client.socket.destroy();
      resolve({ frames, close });
    };
    const timer = setTimeout(() => done(null), timeout);
    const parse = () => {
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) return;
        const opcode = buf[0] & 0x0f;
        const payload = buf.slice(at, at + len);
        buf = buf.slice(at + len);
        frames += 1;
        if (opcode === 8) {
          done({ code: payload.readUInt16BE(0), reason: payload.slice(2).toString('utf8') });
          return;
        }
      }
    };
    client.socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      parse();
    });
    client.socket.on('close', () => done(null));
    client.socket.resume();
    parse();
  });
}

// From `page`: joins `url`'s room, sends `count` messages of about 12 KiB
// of random text, and resolves once all came back and `name` was seen
// leaving (or after `timeout`).
function flood(page, url, count, name, timeout = 20000) {
  return page.evaluate(([url, count, name, timeout]) => new Promise((resolve) => {
    const start = Date.now();
    const result = { sent: 0, back: 0, leftAt: null, close: null };
    const ws = new WebSocket(url, ['chat.v1']);
    const finish = () => {
      clearTimeout(timer);
      result.ms = Date.now() - start;
      ws.close(1000);
      resolve(result);
    };
    const timer = setTimeout(finish, timeout);
    ws.onopen = () => {
      const bytes = new Uint8Array(9000);
      for (let i = 0; i < count; i += 1) {
        crypto.getRandomValues(bytes);
        const text = btoa(String.fromCharCode(...bytes));
        ws.send(JSON.stringify({ type: 'message', text }));
        result.sent += 1;
      }
    };
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === 'message') result.back += 1;
      if (m.type === 'leave' && m.name === name && result.leftAt === null) {
        result.leftAt = Date.now() - start;
        result.backAtLeave = result.back;
      }
      if (result.back === count && result.leftAt !== null) finish();
    };
    ws.onclose = (ev) => {
      result.close = { code: ev.code, reason: ev.reason };
      finish();
    };
  }), [url, count, name, timeout]);
}

const serverLog = () => fs.readFileSync(LOG, 'utf8');

// A page on another origin that opens the chat's WebSocket by itself.
function foreignServer() {
  const page = `<!doctype html><meta charset="utf-8"><title>elsewhere</title>
<script>
window.seen = [];
const ws = new WebSocket(new URLSearchParams(location.search).get('target'), ['chat.v1']);
ws.onopen = () => seen.push({ kind: 'open' });
ws.onerror = () => seen.push({ kind: 'error' });
ws.onclose = (ev) => seen.push({ kind: 'close', code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
</script>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function loginPage(context, room, name) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(`${BASE}/?room=${room}`);
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#name', name);
  await page.click('#login-button');
  return page;
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

async function main() {
  const started = Date.now();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const foreign = await foreignServer();
  const viewport = { width: 640, height: 560 };
  const [ctxA, ctxB, ctxC, ctxAnon] = await Promise.all(
    [0, 1, 2, 3].map(() => browser.newContext({ viewport })),
  );
  let pageA;
  let pageB;
  let pageC;
  const textA = 'hello from alice: é ✓ 😀 "quoted" back\\slash <b>not bold</b> &amp; \u{1F600}';
  const textB = 'hi alice, bob here \u{1F44B} {"type":"join","name":"x"}';
  try {
    await phase('log in and join', async () => {
      pageA = await loginPage(ctxA, 'lobby', 'alice');
      check('alice: page opens the WebSocket', await waitEvent(pageA, { kind: 'open' }));
      const [openA] = (await events(pageA)).filter((e) => e.kind === 'open');
      check('ws.protocol is chat.v1', openA && openA.protocol === 'chat.v1', openA && openA.protocol);
      check('ws.extensions names permessage-deflate',
        openA && /permessage-deflate/.test(openA.extensions), openA && openA.extensions);
      const sid = (await ctxA.cookies()).find((c) => c.name === 'sid');
      check('session cookie is HttpOnly, SameSite=Strict, Path=/',
        sid && sid.httpOnly && sid.sameSite === 'Strict' && sid.path === '/',
        sid && `httpOnly=${sid.httpOnly} sameSite=${sid.sameSite} path=${sid.path}`);
      pageC = await loginPage(ctxC, 'other', 'carol');
      check('carol: page in room other opens', await waitEvent(pageC, { kind: 'open' }));
      pageB = await loginPage(ctxB, 'lobby', 'bob');
      check('bob: page opens', await waitEvent(pageB, { kind: 'open' }));
      check('alice sees bob join', await waitEvent(pageA, { kind: 'message', data: { type: 'join', name: 'bob' } }));
      check('bob sees alice present (members)',
        await waitEvent(pageB, { kind: 'message', data: { type: 'members', names: ['alice'] } }));
    });

    await phase('exchange messages', async () => {
      const sent = Date.now();
      await say(pageA, textA);
      const gotB = await waitEvent(pageB, { kind: 'message', data: { type: 'message', from: 'alice', text: textA } });
      const atB = gotB && (await events(pageB)).find((e) => e.data && e.data.text === textA).at;
      check('bob gets alice\'s message, text intact', gotB, gotB ? `${atB - sent} ms after typing` : 'not received');
      check('alice gets her own message back',
        await waitEvent(pageA, { kind: 'message', data: { type: 'message', from: 'alice', text: textA } }));
      await say(pageB, textB);
      check('alice gets bob\'s message',
        await waitEvent(pageA, { kind: 'message', data: { type: 'message', from: 'bob', text: textB } }));
      const shown = await pageB.evaluate(() => ({
        last: [...document.querySelectorAll('#messages li.message')].map((li) => li.textContent),
        markup: document.querySelectorAll('#messages b').length,
      }));
      check('bob\'s page shows the text as text, not markup',
        shown.last.includes(`alice: ${textA}`) && shown.markup === 0, JSON.stringify(shown.last));
    });

    await phase('screenshot', async () => {
      await waitEvent(pageB, { kind: 'message', data: { type: 'message', from: 'bob', text: textB } });
      const [a, b] = await Promise.all([pageA.screenshot(), pageB.screenshot()]);
      const sheet = await ctxAnon.newPage();
      await sheet.setViewportSize({ width: viewport.width * 2 + 8, height: viewport.height });
      await sheet.setContent(`<body style="margin:0;background:#888;display:flex;gap:8px">
        <img src="data:image/png;base64,${a.toString('base64')}">
        <img src="data:image/png;base64,${b.toString('base64')}"></body>`);
      await sheet.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
      await sheet.screenshot({ path: SHOT });
      await sheet.close();
      const size = fs.statSync(SHOT).size;
      check(`screenshot of both chat pages saved to ${SHOT}`, size > 0, `${size} bytes`);
    });

    await phase('leave and rejoin', async () => {
      let mark = (await events(pageA)).length;
      await pageB.reload();
      check('bob reconnects after a reload', await waitEvent(pageB, { kind: 'open' }));
      check('alice sees bob leave', await waitEvent(pageA, { kind: 'message', data: { type: 'leave', name: 'bob' } }, mark));
      check('alice sees bob join again', await waitEvent(pageA, { kind: 'message', data: { type: 'join', name: 'bob' } }, mark));
      await waitEvent(pageB, { kind: 'message', data: { type: 'join', name: 'bob' } });
      const seenB = await events(pageB);
      const hA = find(seenB, { kind: 'message', data: { type: 'message', from: 'alice', text: textA } });
      const hB = find(seenB, { kind: 'message', data: { type: 'message', from: 'bob', text: textB } });
      const members = find(seenB, { kind: 'message', data: { type: 'members', names: ['alice'] } });
      check('the rejoined page gets the history first, then who is here',
        hA >= 0 && hA < hB && hB < members, `history at ${hA}, ${hB}; members at ${members}`);
      mark = (await events(pageB)).length;
      await pageA.reload();
      check('alice reconnects after a reload', await waitEvent(pageA, { kind: 'open' }));
      check('bob sees alice leave', await waitEvent(pageB, { kind: 'message', data: { type: 'leave', name: 'alice' } }, mark));
      check('bob sees alice join again', await waitEvent(pageB, { kind: 'message', data: { type: 'join', name: 'alice' } }, mark));
    });

    await phase('other room sees nothing', async () => {
      const seenC = await events(pageC);
      const leaks = seenC.filter((e) => e.kind === 'message' && e.data.type !== 'members' &&
        (e.data.from || e.data.name) !== 'carol');
      check('carol in room other sees none of lobby\'s messages or presence', leaks.length === 0,
        `${seenC.filter((e) => e.kind === 'message').length} messages, ${leaks.length} from lobby`);
    });

    await phase('refusals', async () => {
      const target = `${WS_BASE}/chat?room=lobby`;
      const { port } = foreign.address();
      const page = await ctxA.newPage();
      await page.goto(`http://127.0.0.1:${port}/?target=${encodeURIComponent(target)}`);
      let ok = true;
      try {
        await page.waitForFunction(() => window.seen.some((e) => e.kind === 'close'), null, { timeout: WAIT });
      } catch (e) {
        ok = false;
      }
      const seen = await page.evaluate(() => window.seen);
      const close = closeOf(seen);
      check('foreign-origin page: error, then close 1006, wasClean=false',
        ok && kinds(seen) === 'error,close' && close.code === 1006 && close.wasClean === false,
        `${kinds(seen)} ${close.code} wasClean=${close.wasClean}`);
      check('server answered the foreign origin with 403',
        serverLog().includes(`refused 403: origin http://127.0.0.1:${port} not allowed`));
      await page.close();

      const anon = await ctxAnon.newPage();
      await anon.goto(`${BASE}/?room=lobby`);
      check('page without a session shows the login form',
        await anon.waitForSelector('#login:not([hidden])', { timeout: WAIT }).then(() => true, () => false));
      const before = (serverLog().match(/refused 401/g) || []).length;
      const seenAnon = await probe(anon, target);
      const closeAnon = closeOf(seenAnon);
      check('page without the cookie: close 1006, never open',
        closeAnon.code === 1006 && closeAnon.wasClean === false && !seenAnon.some((e) => e.kind === 'open'),
        `${kinds(seenAnon)} ${closeAnon.code} wasClean=${closeAnon.wasClean}`);
      const after = (serverLog().match(/refused 401/g) || []).length;
      check('server answered the page without the cookie with 401', after === before + 1);
      await anon.close();
    });

    await phase('bad messages', async () => {
      const page = await ctxC.newPage();
      await page.goto(`${BASE}/?room=probe`);
      await waitEvent(page, { kind: 'open' });
      const url = `${WS_BASE}/chat?room=probe`;
      const cases = [
        ['not JSON', { text: 'hello' }, 1007],
        ['JSON of the wrong shape', { text: '{"type":"message","text":1}' }, 1007],
        ['an unknown type', { text: '{"type":"shout","text":"x"}' }, 1007],
        ['a binary message', { binary: [1, 2, 3] }, 1003],
        ['17 KiB of text', { text: 'x'.repeat(17 << 10) }, 1009],
      ];
      for (const [what, send, code] of cases) {
        const seen = await probe(page, url, send);
        const close = closeOf(seen);
        check(`${what} closes with ${code}`, close.code === code,
          `${kinds(seen)} ${close.code} "${close.reason}" wasClean=${close.wasClean}`);
      }
      await page.close();
    });

    await phase('HTTP checks', async () => {
      const sidA = (await ctxA.cookies()).find((c) => c.name === 'sid');
      const cookie = `sid=${sidA.value}`;
      const room = '/chat?room=probe';
      let r = await upgrade(room, { cookie, origin: `http://127.0.0.1:${foreign.address().port}` });
      check('upgrade from a foreign Origin: 403', r.status === 403, r.status);
      if (process.env.CHAT_EXTRA_ORIGIN) {
        r = await upgrade(room, { cookie, origin: process.env.CHAT_EXTRA_ORIGIN });
        check('upgrade from an --allow-origin origin: 101', r.status === 101, r.status);
      }
      r = await upgrade(room, { cookie, origin: null });
      check('upgrade without an Origin: 403', r.status === 403, r.status);
      r = await upgrade(room, {});
      check('upgrade without a session cookie: 401', r.status === 401, r.status);
      r = await upgrade(room, { cookie: 'sid=0000' });
      check('upgrade with an unknown session: 401', r.status === 401, r.status);
      for (const bad of ['/chat', '/chat?room=', '/chat?room=a%20b', `/chat?room=${'r'.repeat(33)}`]) {
        r = await upgrade(bad, { cookie });
        check(`upgrade to ${bad.slice(0, 24)}: 400`, r.status === 400, r.status);
      }
      r = await upgrade(room, { cookie, protocol: 'other.v2, chat.v1' });
      check('chat.v1 chosen among offers', r.status === 101 && r.headers['sec-websocket-protocol'] === 'chat.v1',
        `${r.status} ${r.headers['sec-websocket-protocol']}`);
      r = await upgrade(room, { cookie });
      check('no subprotocol offered: none chosen', r.status === 101 && !r.headers['sec-websocket-protocol'], r.status);
      r = await upgrade(room, { cookie, extensions: 'permessage-deflate; client_max_window_bits' });
      const ext = r.headers['sec-websocket-extensions'] || '';
      check('permessage-deflate agreed without server context takeover',
        r.status === 101 && /permessage-deflate/.test(ext) && /server_no_context_takeover/.test(ext), ext);
      for (const bad of ['', 'a%20b', 'x'.repeat(33), '%C3%A9', 'a/b']) {
        r = await login(bad);
        check(`login as "${bad.slice(0, 12)}": 400`, r.status === 400, r.status);
      }
      r = await request('POST', '/login', { 'Content-Type': 'text/plain' }, 'name=dave');
      check('login without a form body: 415', r.status === 415, r.status);
      r = await login('dave', { Origin: 'http://elsewhere.example' });
      check('login from a foreign Origin: 403', r.status === 403, r.status);
      r = await login('dave');
      const set = String(r.headers['set-cookie'] || '');
      check('login: 204 and the cookie', r.status === 204 && /HttpOnly/.test(set) && /SameSite=Strict/.test(set) && /Path=\//.test(set), set);
      const dave = set.split(';')[0];
      r = await request('GET', '/me', { Cookie: dave });
      check('/me knows the session', r.status === 200, r.status);
      r = await request('POST', '/logout', { Cookie: dave });
      check('logout clears the cookie', r.status === 204 && /Max-Age=0/.test(String(r.headers['set-cookie'])), r.status);
      r = await request('GET', '/me', { Cookie: dave });
      check('after logout the session is gone', r.status === 401, r.status);
    });

    await phase('slow client', async () => {
      const sidA = (await ctxA.cookies()).find((c) => c.name === 'sid');
      const slow = await stalledClient('/chat?room=flood', `sid=${sidA.value}`);
      check('a client that stops reading is accepted', slow.status === 101, slow.status);
      const page = await ctxC.newPage();
      await page.goto(`${BASE}/?room=probe`);
      const count = 2000;
      const result = await flood(page, `${WS_BASE}/chat?room=flood`, count, 'alice');
      check('the broadcaster is not held up: every message comes back to the sender',
        result.back === count && result.close === null,
        `${result.back}/${count} back in ${result.ms} ms${result.close ? `, closed ${result.close.code}` : ''}`);
      check('the stalled client is dropped from the room (the others see it leave)', result.leftAt !== null,
        result.leftAt === null ? 'no leave' : `after ${result.backAtLeave} broadcasts, ${result.leftAt} ms`);
      const read = await readUntilClose(slow);
      check('the stalled client, reading again, finds close 1008 "too slow"',
        read.close && read.close.code === 1008 && read.close.reason === 'too slow',
        `${read.frames} frames, ${read.close ? `${read.close.code} "${read.close.reason}"` : 'no Close'}`);
      await page.close();
    });

    await phase('server stops', async () => {
      const pages = [['alice', pageA], ['bob', pageB], ['carol', pageC]];
      const marks = await Promise.all(pages.map(([, page]) => events(page).then((e) => e.length)));
      const quit = Date.now();
      process.kill(SERVER_PID, 'SIGTERM');
      for (const [i, [name, page]] of pages.entries()) {
        const got = await waitEvent(page, { kind: 'close' }, marks[i]);
        const seen = (await events(page)).slice(marks[i]);
        const close = seen.find((e) => e.kind === 'close') || {};
        check(`${name}: close 1001 "going away", wasClean=true`,
          got && close.code === 1001 && close.reason === 'going away' && close.wasClean === true,
          got ? `${close.code} "${close.reason}" wasClean=${close.wasClean}, ${close.at - quit} ms after SIGTERM` : 'no close');
      }
      const shown = await pageA.textContent('#closed');
      check('the page shows code, reason and wasClean', /1001/.test(shown) && /going away/.test(shown) && /wasClean true/.test(shown), shown);
      const marksA = marks[0];
      check('the page schedules a reconnect after 1 s', await waitEvent(pageA, { kind: 'retry', delay: 1000 }, marksA));
      check('the failed reconnect backs off to 2 s', await waitEvent(pageA, { kind: 'retry', delay: 2000 }, marksA, 8000));
    });
  } catch (e) {
    check('scenario ran to the end', false, e.stack || String(e));
  } finally {
    await browser.close().catch(() => {});
    await new Promise((resolve) => foreign.close(resolve));
  }
  const total = Date.now() - started;
  console.log(`# total: ${total} ms (${timings.map(([n, ms]) => `${n} ${ms}`).join(', ')})`);
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
