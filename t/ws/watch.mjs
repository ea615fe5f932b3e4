// t/ws/watch.mjs URL [--ping] [--deadline MS] — a WebSocket client (the `ws`
// package) for t/notte_ws.t.  Prints one JSON line per event, flushed as it
// happens, so that the test can act between them:
//   {"ev":"open","accept":"...","protocol_headers":{...}}
//   {"ev":"message","data":"<text>"}      one per text message
//   {"ev":"pong","data":"<payload>"}      --ping: after the first message or open
//   {"ev":"unexpected","status":N,"body":"..."}   refused before the upgrade
//   {"ev":"close","code":N,"reason":"..."}
//   {"ev":"error","message":"..."}
// Exits when the connection ends, or after --deadline (default 60 s).
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.LC_WS_NODE_DIR || process.cwd(), 'x.js'));
const WebSocket = require('ws');

const args = process.argv.slice(2);
const url = args[0];
const ping = args.includes('--ping');
const di = args.indexOf('--deadline');
const deadline = di >= 0 ? Number(args[di + 1]) : 60000;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const ws = new WebSocket(url, { maxPayload: 5 * 1024 * 1024, handshakeTimeout: 30000 });
const timer = setTimeout(() => { out({ ev: 'deadline' }); process.exit(2); }, deadline);

ws.on('upgrade', (res) => {
  out({ ev: 'open', accept: res.headers['sec-websocket-accept'] || null,
        upgrade: res.headers['upgrade'] || null, status: res.statusCode });
});
ws.on('open', () => { if (ping) ws.ping('are-you-there'); });
ws.on('pong', (data) => out({ ev: 'pong', data: data.toString() }));
ws.on('message', (data, isBinary) => out({ ev: 'message', binary: isBinary, data: data.toString() }));
ws.on('unexpected-response', (req, res) => {
  let body = '';
  res.on('data', (c) => { body += c; });
  res.on('end', () => {
    out({ ev: 'unexpected', status: res.statusCode, body,
          retry_after: res.headers['retry-after'] || null });
    clearTimeout(timer);
    process.exit(0);
  });
});
ws.on('close', (code, reason) => {
  out({ ev: 'close', code, reason: reason.toString() });
  clearTimeout(timer);
  process.exit(0);
});
ws.on('error', (e) => out({ ev: 'error', message: String(e && e.message) }));
