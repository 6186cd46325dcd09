/** The virtual handset page: every phone of the bench server as a card, live over server-sent events. */
export const BENCH_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>deskphone bench</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px system-ui, sans-serif; background: #1d2226; color: #e8e8e8; margin: 0; padding: 16px; }
  h1 { font-size: 18px; font-weight: 600; margin: 0 0 12px; }
  #phones { display: flex; flex-wrap: wrap; gap: 16px; }
  .phone { background: #2b3137; border-radius: 14px; padding: 14px; width: 270px; box-shadow: 0 2px 8px #0008; }
  .phone.emergency { outline: 3px solid #e33; }
  .top { display: flex; justify-content: space-between; align-items: baseline; }
  .user { font-size: 20px; font-weight: 700; }
  .reg { font-size: 12px; color: #9a9; }
  .leds { display: flex; gap: 10px; margin: 10px 0; }
  .led { display: flex; flex-direction: column; align-items: center; font-size: 10px; color: #aaa; }
  .led i { width: 14px; height: 14px; border-radius: 50%; background: #444; display: block; margin-bottom: 3px; }
  .led i.lit { background: #3d3; box-shadow: 0 0 8px #3d3; }
  .led.emergency i.lit { background: #f33; box-shadow: 0 0 10px #f33; }
  .screen { background: #9fb59a; color: #122; border-radius: 6px; padding: 8px; min-height: 58px; font-family: ui-monospace, monospace; font-size: 13px; }
  .ringer { height: 10px; border-radius: 5px; background: #333; margin: 8px 0; overflow: hidden; }
  .ringer b { display: block; height: 100%; width: 100%; background: transparent; }
  .ringer b.on { background: #fc3; }
  .ringer b.on.emergency { background: #f33; }
  .keys { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin-top: 8px; }
  button { font: inherit; background: #3c444c; color: #eee; border: 0; border-radius: 8px; padding: 8px; cursor: pointer; }
  button:hover { background: #4c565f; }
  .handset { width: 100%; margin-top: 8px; padding: 10px; font-weight: 600; }
  .handset.off { background: #2f6b3a; }
  .row { display: flex; gap: 6px; margin-top: 6px; }
  .row button { flex: 1; }
  .journal { font-size: 11px; color: #bbb; margin-top: 8px; max-height: 90px; overflow: auto; }
</style></head>
<body>
<h1>deskphone bench</h1>
<div id="phones"></div>
<script>
const cards = new Map();
const ledTimers = new Map();
const ringTimers = new Map();
function api(user, what, body) {
  return fetch('/api/phones/' + encodeURIComponent(user) + '/' + what, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
}
function card(user) {
  if (cards.has(user)) return cards.get(user);
  const el = document.createElement('div');
  el.className = 'phone'; el.dataset.user = user;
  el.innerHTML = '<div class="top"><span class="user"></span><span class="reg"></span></div>' +
    '<div class="leds">' + ['status','line','message','emergency'].map(n =>
      '<span class="led ' + n + '" data-led="' + n + '"><i></i>' + n + '</span>').join('') + '</div>' +
    '<div class="screen"></div><div class="ringer" title="ringer"><b></b></div>' +
    '<button class="handset"></button>' +
    '<div class="keys">' + ['1','2','3','4','5','6','7','8','9','*','0','#'].map(k =>
      '<button data-key="' + k + '">' + k + '</button>').join('') + '</div>' +
    '<div class="row"><button data-act="flash">flash</button><button data-key="dnd">DND</button><button data-key="ack">ack</button></div>' +
    '<div class="journal"></div>';
  el.querySelector('.user').textContent = user;
  el.querySelector('.handset').onclick = () => api(user, 'hook', { offHook: el.dataset.hook !== 'off' });
  el.querySelectorAll('[data-key]').forEach(b => b.onclick = () => api(user, 'keys', { keys: b.dataset.key }));
  el.querySelector('[data-act=flash]').onclick = () => api(user, 'flash');
  document.getElementById('phones').appendChild(el);
  cards.set(user, el);
  return el;
}
function runLed(key, i, pattern) {
  clearTimeout(ledTimers.get(key));
  let steps;
  if (pattern.kind === 'on') steps = [{ on: true, ms: 0 }];
  else if (pattern.kind === 'blink') steps = [{ on: true, ms: pattern.onMs }, { on: false, ms: pattern.offMs }];
  else if (pattern.kind === 'sequence') steps = pattern.steps;
  else steps = [{ on: false, ms: 0 }];
  let n = 0;
  const step = () => {
    const s = steps[n % steps.length];
    i.classList.toggle('lit', s.on);
    n++;
    if (s.ms > 0 && steps.length > 1) ledTimers.set(key, setTimeout(step, s.ms));
  };
  step();
}
function runRinger(user, b, ringer, emergency) {
  clearTimeout(ringTimers.get(user));
  b.className = '';
  if (!ringer) return;
  let n = 0;
  const step = () => {
    if (!ringer.repeat && n >= ringer.segments.length) { b.className = ''; return; }
    const s = ringer.segments[n % ringer.segments.length];
    b.className = s.freqs.length ? ('on' + (emergency ? ' emergency' : '')) : '';
    n++;
    ringTimers.set(user, setTimeout(step, s.ms));
  };
  step();
}
function describe(s) {
  const c = s.call;
  const who = c ? (c.direction === 'in' ? 'from ' : 'to ') + c.remote : '';
  const cls = c && c.alertClass !== 'normal' ? ' [' + c.alertClass + ']' : '';
  switch (s.phase) {
    case 'idle': return s.missedEmergencies ? 'MISSED EMERGENCY (' + s.missedEmergencies + ')' : 'idle' + (s.dnd ? ' - DND' : '');
    case 'ringing': return 'RINGING ' + who + cls;
    case 'dialing': return 'dial: ' + (s.dialled || '_');
    case 'calling': return 'calling ' + c.remote + '...';
    case 'talking': return 'talking ' + who + cls + (s.waiting ? '\\nwaiting: ' + s.waiting.remote : '') + (s.held ? '\\nheld: ' + s.held.remote : '');
    case 'hungUp': return 'call ended (hang up)';
  }
  return s.phase;
}
function render(s) {
  const el = card(s.user);
  el.dataset.hook = s.hook;
  el.dataset.phase = s.phase;
  el.classList.toggle('emergency', !!(s.call && s.call.emergency));
  el.querySelector('.reg').textContent = s.registration;
  el.querySelector('.screen').innerText = describe(s);
  const h = el.querySelector('.handset');
  h.textContent = s.hook === 'off' ? 'replace handset' : 'lift handset';
  h.classList.toggle('off', s.hook === 'off');
  for (const [name, pattern] of Object.entries(s.leds)) {
    const key = s.user + ':' + name;
    const json = JSON.stringify(pattern);
    const i = el.querySelector('[data-led=' + name + '] i');
    if (i.dataset.pattern !== json) { i.dataset.pattern = json; runLed(key, i, pattern); }
  }
  const rb = el.querySelector('.ringer b');
  const rj = JSON.stringify(s.ringer);
  if (rb.dataset.ringer !== rj) { rb.dataset.ringer = rj; runRinger(s.user, rb, s.ringer, !!(s.call && s.call.emergency)); }
  if (el.dataset.journal === String(s.journalEntries)) return;
  el.dataset.journal = String(s.journalEntries);
  fetch('/api/phones/' + encodeURIComponent(s.user) + '/journal').then(r => r.json()).then(j => {
    el.querySelector('.journal').innerText = j.slice(-6).reverse().map(r =>
      (r.time ? r.time.slice(11, 19) + ' ' : '') + r.event + (r.remote ? ' ' + r.remote : '') + (r.emergency ? ' (emergency)' : '')).join('\\n');
  });
}
const events = new EventSource('/api/events');
events.addEventListener('state', e => render(JSON.parse(e.data)));
</script>
</body></html>
`;
