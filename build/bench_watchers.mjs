// build/bench_watchers.mjs BASE N — the watcher step of `make bench`
// (build/bench.sh, BENCH_WATCHERS): a session and an agent through the Notte
// API, then N concurrent watchers (GET /agents/{id}/debug/logs?token=&session_id=,
// the npm `ws` package, installed into build/bench/ws).  Tokens from the
// environment: LC_AGENT_TOKEN (agents.read agents.write), LC_TOKEN
// (lifecycle.admin, for the runner's report).  Driven by lines on stdin, and
// answers with one line on stdout each:
//   (start)  agent ID SESSION
//   open     open MS ERRS          all N open, MS from the first connect
//   step     step MS GOT           one reported step: from the POST to the
//                                  last of the N watchers receiving it
//   close    closed MS CODES       client closes all; MS until every close
// A watcher refused 503 (over LifecycleWatchersPerChild in that child) is
// retried after 50 ms; those retries are counted in ERRS.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(path.join(process.env.LC_WS_NODE_DIR || process.cwd(), 'x.js'));
const WebSocket = require('ws');

const [base, nArg] = process.argv.slice(2);
const N = Number(nArg);
const agentTok = process.env.LC_AGENT_TOKEN;
const adminTok = process.env.LC_TOKEN;
const out = (s) => process.stdout.write(s + '\n');
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function post(p, tok, body) {
  const r = await fetch(base + p, { method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tok}` } });
  const t = await r.text();
  if (!r.ok) throw new Error(`POST ${p}: ${r.status} ${t}`);
  return JSON.parse(t);
}

const sid = (await post('/sessions/start', agentTok, {})).session_id;
const aid = (await post('/agents/start', agentTok, { task: 'bench', session_id: sid })).agent_id;
out(`agent ${aid} ${sid}`);

const url = base.replace(/^http/, 'ws') +
  `/agents/${aid}/debug/logs?token=${agentTok}&session_id=${sid}`;
const socks = [];
let retries = 0;
let onMessage = null;
let onClose = null;

function openOne(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 60000, perMessageDeflate: false });
    ws.on('unexpected-response', (req, res) => {
      res.resume();
      if (res.statusCode === 503) {
        retries++;
        setTimeout(() => openOne(i).then(resolve, reject), 50);
      } else {
        reject(new Error(`watcher ${i}: ${res.statusCode}`));
      }
    });
    ws.on('open', () => { socks[i] = ws; resolve(); });
    ws.on('message', (data) => onMessage && onMessage(i, data.toString()));
    ws.on('close', (code) => onClose && onClose(i, code));
    ws.on('error', (e) => { if (!socks[i]) reject(e); });
  });
}


const step = {
  state: { previous_goal_status: 'success', previous_goal_eval: 'eval 1', page_summary: 'page 1',
           relevant_interactions: [], memory: 'memory 1', next_goal: 'goal 1' },
  action: { type: 'goto', url: 'https://notte.cc/1' },
  started_at: '2026-12-07T00:00:00Z', ended_at: '2026-12-07T00:00:01Z',
};

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = line.trim();
  if (cmd === 'open') {
    const t0 = now();
    await Promise.all(Array.from({ length: N }, (_, i) => openOne(i)));
    out(`open ${(now() - t0).toFixed(0)} ${retries}`);
  } else if (cmd === 'step') {
    let got = 0;
    const seen = new Set();
    const ts = now();
    const done = new Promise((resolve) => {
      onMessage = (i, data) => {
        if (!seen.has(i) && data.includes('goal 1')) { seen.add(i); if (++got === N) resolve(); }
      };
    });
    await post(`/lifecycle/v1/resources/agent/${aid}/report`, adminTok, { steps: [step] });
    await Promise.race([done, new Promise((r) => setTimeout(r, 60000))]);
    out(`step ${(now() - ts).toFixed(0)} ${got}`);
  } else if (cmd === 'close') {
    let closed = 0;
    const codes = {};
    const tc = now();
    const done = new Promise((resolve) => {
      onClose = (i, code) => { codes[code] = (codes[code] || 0) + 1; if (++closed === N) resolve(); };
    });
    for (const ws of socks) ws.close(1000);
    await Promise.race([done, new Promise((r) => setTimeout(r, 60000))]);
    out(`closed ${(now() - tc).toFixed(0)} ${JSON.stringify(codes)}`);
    process.exit(0);
  }
}
