// vigil's HTML report: reads the data embedded in #vigil-data (ReportData::to_json,
// layout in docs/report.md) and draws the overview, the alert list with its
// triage context, the hosts and the ATT&CK matrix. Every text from the data is
// put into the page with textContent or as an attribute value set through the
// DOM (never parsed as HTML); only http(s) URLs of rule references become links.
'use strict';
(function () {
  const started = performance.now();
  // The data: gzip + base64 (render_html_report), inflated by the browser; or plain JSON.
  const node = document.getElementById('vigil-data');
  function inflate(b64) {
    const bin = atob(b64.trim());
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
  }
  const text = node.getAttribute('data-encoding') === 'gzip+base64' ? inflate(node.textContent) : Promise.resolve(node.textContent);
  text.then((json) => start(JSON.parse(json))).catch((e) => {
    document.getElementById('app').textContent = 'This report could not be read: ' + e;
  });

function start(D) {
  const S = D.s;
  const SEV = ['low', 'medium', 'high', 'critical'];
  const PAGE = 100;

  // ---- the data, decoded once -------------------------------------------
  const rules = D.rules.map((r, i) => ({
    i, id: r[0], name: r[1], sev: r[2], risk: r[3], type: r[4], description: r[5],
    refs: r[6], techs: r[7], tactics: r[8], count: 0,
  }));
  const hosts = D.hosts.map((name, i) => ({ i, name, count: 0, bySev: [0, 0, 0, 0], first: Infinity, last: -Infinity }));
  const alerts = D.alerts.map((a, i) => ({
    i, id: S[a[0]], time: a[1], otime: a[2] || a[1], rule: a[3], host: a[4], sev: a[5], reason: S[a[6]],
    bb: (a[7] & 1) !== 0, seq: (a[7] & 2) !== 0, group: S[a[8]], gindex: a[9], raw: a, hay: null,
  }));
  alerts.sort((x, y) => x.otime - y.otime || x.gindex - y.gindex || (x.id < y.id ? -1 : 1));
  const byId = new Map();
  const groups = new Map();  // sequence group id -> its building blocks, in term order
  for (const a of alerts) {
    byId.set(a.id, a);
    if (a.bb && a.group) {
      if (!groups.has(a.group)) groups.set(a.group, []);
      groups.get(a.group).push(a);
    }
    if (a.bb) continue;
    rules[a.rule].count++;
    const h = hosts[a.host];
    h.count++; h.bySev[a.sev]++;
    h.first = Math.min(h.first, a.otime); h.last = Math.max(h.last, a.otime);
  }
  for (const list of groups.values()) list.sort((x, y) => x.gindex - y.gindex);

  // ATT&CK: techniques by id, and each technique's (and its sub-techniques') rules and alerts.
  const tactics = D.attack.tactics.map((t, i) => ({ i, id: t[0], short: t[1], name: t[2] }));
  const techniques = new Map();
  for (const t of D.attack.techniques) techniques.set(t[0], { id: t[0], name: t[1], tactics: t[2] });
  const techName = (id) => (techniques.get(id) || {}).name || D.attack.other[id] || '';
  const parentOf = (id) => id.split('.')[0];
  const techRules = new Map();   // technique id (parent level) -> Set of rule indexes
  rules.forEach((r) => {
    for (const t of r.techs) {
      for (const id of new Set([t, parentOf(t)])) {
        if (!techRules.has(id)) techRules.set(id, new Set());
        techRules.get(id).add(r.i);
      }
    }
  });
  const coverage = D.coverage ? D.coverage.techniques : null;
  function coverageOf(id) {  // [ready, degraded, blind, rule names] summed over the technique and its sub-techniques
    if (!coverage) return null;
    let sum = null;
    for (const key in coverage) {
      if (key !== id && parentOf(key) !== id) continue;
      const c = coverage[key];
      if (!sum) sum = [0, 0, 0, []];
      sum[0] += c[0]; sum[1] += c[1]; sum[2] += c[2];
      for (const n of c[3]) if (!sum[3].includes(n)) sum[3].push(n);
    }
    return sum;
  }
  function coverageStatus(c) {
    if (!c || c[0] + c[1] + c[2] === 0) return '';
    if (c[0] > 0 && c[1] === 0 && c[2] === 0) return 'ready';
    if (c[0] === 0 && c[1] === 0) return 'blind';
    return 'degraded';
  }

  // ---- small DOM helpers (text only: never innerHTML) -------------------
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const k in props) {
        if (k === 'class') e.className = props[k];
        else if (k === 'text') e.textContent = props[k];
        else if (k === 'on') for (const ev in props.on) e.addEventListener(ev, props.on[ev]);
        else e.setAttribute(k, props[k]);
      }
    }
    for (const c of children) if (c !== null && c !== undefined && c !== '') e.append(c);
    return e;
  }
  const svgNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const e = document.createElementNS(svgNS, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  const pad = (n, w) => String(n).padStart(w || 2, '0');
  function iso(ms) {
    if (!ms) return '';
    const d = new Date(ms);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
      pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) + '.' + pad(d.getUTCMilliseconds(), 3) + 'Z';
  }
  function parseTime(text, end) {  // ISO 8601 or a date (UTC when no zone); a date as "to" includes its day
    if (!text) return null;
    let t = text.trim();
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(t);
    if (!/[zZ]|[+-]\d\d:?\d\d$/.test(t) && !dateOnly) t = t.replace(' ', 'T') + 'Z';
    const ms = Date.parse(dateOnly ? t + 'T00:00:00Z' : t);
    if (Number.isNaN(ms)) return null;
    return dateOnly && end ? ms + 86400000 : ms;
  }
  const sevBadge = (s) => el('span', { class: 'sev sev-' + s, text: SEV[s] });
  const safeUrl = (u) => /^https?:\/\//i.test(u) && !/[\s<>"']/.test(u);

  // ---- state, kept in the URL fragment (shareable deep links) -----------
  const state = { view: 'overview', sev: '', rule: '', host: '', tech: '', q: '', from: '', to: '', bb: '', order: 'asc', page: 0, open: '', matrix: '' };
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    for (const k in state) if (p.has(k)) state[k] = k === 'page' ? Math.max(0, parseInt(p.get(k), 10) || 0) : p.get(k);
    if (state.open && !p.has('view')) state.view = 'alerts';
  }
  function writeHash() {
    const p = new URLSearchParams();
    for (const k in state) if (state[k] !== '' && !(k === 'page' && state.page === 0) && !(k === 'order' && state.order === 'asc')) p.set(k, state[k]);
    const h = '#' + p.toString();
    if (location.hash !== h) history.replaceState(null, '', h);
  }

  // ---- filtering --------------------------------------------------------
  function haystack(a) {
    if (a.hay === null) {
      const parts = [a.reason, rules[a.rule].name, hosts[a.host].name, a.id];
      for (const s of a.raw[10]) parts.push(S[s]);
      a.hay = parts.join('\n').toLowerCase();
    }
    return a.hay;
  }
  let from = null, to = null;  // state.from / state.to parsed once per filtering, not per alert
  function matches(a) {
    if (a.bb && state.bb !== '1') return false;
    if (state.sev !== '' && a.sev < +state.sev) return false;
    if (state.rule !== '' && rules[a.rule].id !== state.rule) return false;
    if (state.host !== '' && hosts[a.host].name !== state.host) return false;
    if (state.tech !== '' && !rules[a.rule].techs.some((t) => t === state.tech || parentOf(t) === state.tech)) return false;
    if (from !== null && a.otime < from) return false;
    if (to !== null && a.otime >= to) return false;
    if (state.q !== '') {
      const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
      const h = haystack(a);
      for (const w of words) if (!h.includes(w)) return false;
    }
    return true;
  }
  function filtered() {
    from = parseTime(state.from, false);
    to = parseTime(state.to, true);
    const out = alerts.filter(matches);
    if (state.order === 'desc') out.reverse();
    return out;
  }

  // ---- layout -----------------------------------------------------------
  const app = document.getElementById('app');
  const shown = alerts.filter((a) => !a.bb);
  const header = el('header', null, el('h1', { text: D.title || 'vigil report' }),
    el('span', { class: 'meta', text: shown.length + ' alerts · ' + hosts.length + ' hosts · ' + rules.length + ' rules · generated ' + D.generated }),
    D.inputs.length ? el('span', { class: 'meta', text: 'from ' + D.inputs.join(', ') }) : null,
    D.skipped ? el('span', { class: 'meta', text: D.skipped + ' input line(s) were not alerts (see the vigil report summary)' }) : null);
  const views = { overview: 'Overview', alerts: 'Alerts', hosts: 'Hosts', attack: 'ATT&CK' };
  const nav = el('nav');
  for (const v in views) {
    nav.append(el('button', { 'data-view': v, text: views[v], on: { click: () => go({ view: v }) } }));
  }
  const main = el('main', { id: 'main' });
  app.append(header, nav, main);

  function go(changes) {
    Object.assign(state, changes);
    if (!('page' in changes) && !('open' in changes)) state.page = 0;
    render();
  }
  function render() {
    writeHash();
    for (const b of nav.children) b.classList.toggle('active', b.getAttribute('data-view') === state.view);
    main.replaceChildren();
    main.setAttribute('data-view', state.view);
    if (state.view === 'alerts') renderAlerts();
    else if (state.view === 'hosts') renderHosts();
    else if (state.view === 'attack') renderAttack();
    else renderOverview();
  }

  // ---- overview ---------------------------------------------------------
  function renderOverview() {
    const bySev = [0, 0, 0, 0];
    for (const a of shown) bySev[a.sev]++;
    const cards = el('div', { class: 'cards' });
    for (let s = 3; s >= 0; s--) {
      cards.append(el('button', { class: 'card sev-' + s, 'data-severity': SEV[s], on: { click: () => go({ view: 'alerts', sev: String(s) }) } },
        el('b', { text: String(bySev[s]) }), SEV[s]));
    }
    main.append(el('section', { class: 'panel', id: 'severity' }, el('h2', { text: 'Alerts by severity' }), cards));
    main.append(el('section', { class: 'panel' }, el('h2', { text: 'Timeline (event time, UTC; click a bar to list its alerts)' }), timeline(shown)));
    const top = (items, n) => items.filter((x) => x.count > 0).sort((x, y) => y.count - x.count || (x.name < y.name ? -1 : 1)).slice(0, n);
    const ruleTable = el('table', { id: 'top-rules' }, el('tr', null, el('th', { class: 'num', text: 'alerts' }), el('th', { text: 'severity' }), el('th', { text: 'rule' })));
    for (const r of top(rules, 25)) {
      ruleTable.append(el('tr', null, el('td', { class: 'num', text: String(r.count) }), el('td', null, sevBadge(r.sev)),
        el('td', null, el('button', { class: 'link', text: r.name, on: { click: () => go({ view: 'alerts', rule: r.id }) } }))));
    }
    const hostTable = el('table', { id: 'top-hosts' }, el('tr', null, el('th', { class: 'num', text: 'alerts' }), el('th', { text: 'host' })));
    for (const h of top(hosts, 25)) {
      hostTable.append(el('tr', null, el('td', { class: 'num', text: String(h.count) }),
        el('td', null, el('button', { class: 'link', text: h.name || '(no host.name)', on: { click: () => go({ view: 'alerts', host: h.name }) } }))));
    }
    const techCounts = new Map();
    for (const a of shown) for (const t of rules[a.rule].techs) techCounts.set(t, (techCounts.get(t) || 0) + 1);
    const techTable = el('table', { id: 'top-techniques' }, el('tr', null, el('th', { class: 'num', text: 'alerts' }), el('th', { text: 'technique' })));
    for (const [id, n] of [...techCounts].sort((x, y) => y[1] - x[1]).slice(0, 25)) {
      techTable.append(el('tr', null, el('td', { class: 'num', text: String(n) }),
        el('td', null, el('button', { class: 'link', text: id + ' ' + techName(id), on: { click: () => go({ view: 'alerts', tech: id }) } }))));
    }
    main.append(el('section', { class: 'panel' }, el('h2', { text: 'By rule' }), ruleTable));
    main.append(el('section', { class: 'panel' }, el('h2', { text: 'By host' }), hostTable));
    main.append(el('section', { class: 'panel' }, el('h2', { text: 'By ATT&CK technique' }), techTable));
  }

  function timeline(list) {
    const box = svg('svg', { class: 'timeline', viewBox: '0 0 1000 150', preserveAspectRatio: 'none', role: 'img' });
    if (list.length === 0) return el('div', { class: 'empty', text: 'No alerts.' });
    let lo = Infinity, hi = -Infinity;
    for (const a of list) { lo = Math.min(lo, a.otime); hi = Math.max(hi, a.otime); }
    const n = 60, span = Math.max(1, hi - lo + 1), width = 1000 / n;
    const counts = Array.from({ length: n }, () => [0, 0, 0, 0]);
    for (const a of list) counts[Math.min(n - 1, Math.floor((a.otime - lo) / span * n))][a.sev]++;
    const max = Math.max(1, ...counts.map((c) => c[0] + c[1] + c[2] + c[3]));
    const colors = ['#5b8def', '#e0a800', '#e8590c', '#c92a2a'];
    counts.forEach((c, b) => {
      let y = 140;
      const from = lo + span * b / n, to = lo + span * (b + 1) / n;
      for (let s = 0; s < 4; s++) {
        if (!c[s]) continue;
        const h = Math.max(2, c[s] / max * 130);
        y -= h;
        const r = svg('rect', { class: 'bar', x: b * width + 1, y: y, width: width - 2, height: h, fill: colors[s], 'data-bucket': b });
        const title = svg('title', {});
        title.textContent = c[s] + ' ' + SEV[s] + ' · ' + iso(from) + ' – ' + iso(to);
        r.append(title);
        r.addEventListener('click', () => go({ view: 'alerts', from: new Date(Math.floor(from)).toISOString(), to: new Date(Math.ceil(to)).toISOString() }));
        box.append(r);
      }
    });
    box.append(svg('line', { x1: 0, y1: 140.5, x2: 1000, y2: 140.5, stroke: '#9aa5b8' }));
    const wrap = el('div', null, box, el('div', { class: 'legend' },
      el('span', { text: iso(lo) }), el('span', { text: '→' }), el('span', { text: iso(hi) }),
      ...[3, 2, 1, 0].map((s) => el('span', null, sevBadge(s)))));
    return wrap;
  }

  // ---- alerts -----------------------------------------------------------
  function option(value, label, selected) {
    const o = el('option', { value: value, text: label });
    if (selected) o.selected = true;
    return o;
  }
  function filterBar() {
    const bar = el('div', { class: 'filters', id: 'filters' });
    const sev = el('select', { id: 'f-sev', 'aria-label': 'severity', on: { change: (e) => go({ sev: e.target.value }) } },
      option('', 'any severity', state.sev === ''), ...[0, 1, 2, 3].map((s) => option(String(s), '≥ ' + SEV[s], state.sev === String(s))));
    const ruleSel = el('select', { id: 'f-rule', 'aria-label': 'rule', on: { change: (e) => go({ rule: e.target.value }) } }, option('', 'any rule', state.rule === ''));
    for (const r of [...rules].filter((r) => r.count > 0).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      ruleSel.append(option(r.id, r.name + ' (' + r.count + ')', state.rule === r.id));
    }
    const hostSel = el('select', { id: 'f-host', 'aria-label': 'host', on: { change: (e) => go({ host: e.target.value }) } }, option('', 'any host', state.host === ''));
    for (const h of [...hosts].filter((h) => h.count > 0).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      hostSel.append(option(h.name, (h.name || '(no host.name)') + ' (' + h.count + ')', state.host === h.name));
    }
    const techSel = el('select', { id: 'f-tech', 'aria-label': 'technique', on: { change: (e) => go({ tech: e.target.value }) } }, option('', 'any technique', state.tech === ''));
    const techIds = new Set();
    for (const r of rules) if (r.count > 0) for (const t of r.techs) { techIds.add(t); techIds.add(parentOf(t)); }
    for (const id of [...techIds].sort()) techSel.append(option(id, id + ' ' + techName(id), state.tech === id));
    const q = el('input', { id: 'f-q', type: 'search', placeholder: 'search reason, rule, host, command line…', 'aria-label': 'search' });
    q.value = state.q;
    let timer = 0;
    q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { go({ q: q.value }); const f = document.getElementById('f-q'); f.focus(); f.setSelectionRange(f.value.length, f.value.length); }, 200); });
    const from = el('input', { id: 'f-from', type: 'text', placeholder: 'from (UTC, 2021-03-05 or ISO)', size: 22, 'aria-label': 'from' });
    from.value = state.from;
    from.addEventListener('change', () => go({ from: from.value }));
    const to = el('input', { id: 'f-to', type: 'text', placeholder: 'to', size: 22, 'aria-label': 'to' });
    to.value = state.to;
    to.addEventListener('change', () => go({ to: to.value }));
    const bb = el('label', null, el('input', { id: 'f-bb', type: 'checkbox', on: { change: (e) => go({ bb: e.target.checked ? '1' : '' }) } }), ' building blocks');
    bb.firstChild.checked = state.bb === '1';
    const order = el('button', { id: 'f-order', text: state.order === 'asc' ? 'oldest first' : 'newest first', on: { click: () => go({ order: state.order === 'asc' ? 'desc' : 'asc' }) } });
    const clear = el('button', { id: 'f-clear', text: 'clear filters', on: { click: () => go({ sev: '', rule: '', host: '', tech: '', q: '', from: '', to: '', bb: '', open: '' }) } });
    bar.append(sev, ruleSel, hostSel, techSel, q, from, to, bb, order, clear);
    return bar;
  }

  function renderAlerts() {
    const panel = el('section', { class: 'panel' });
    const list = filtered();
    if (state.open) {
      const at = list.findIndex((a) => a.id === state.open);
      if (at >= 0) state.page = Math.floor(at / PAGE);
    }
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    writeHash();
    const title = state.host !== '' ? 'Host ' + (state.host || '(no host.name)') + ': its alerts in time order' : 'Alerts';
    panel.append(el('h2', { text: title }), filterBar());
    const pager = () => el('div', { class: 'pager' },
      el('button', { text: '‹ previous', on: { click: () => go({ page: Math.max(0, state.page - 1), open: '' }) } }),
      el('span', { class: 'match-count', 'data-count': String(list.length), text: list.length + ' alert(s) match · page ' + (state.page + 1) + ' of ' + pages }),
      el('button', { text: 'next ›', on: { click: () => go({ page: Math.min(pages - 1, state.page + 1), open: '' }) } }));
    panel.append(pager());
    if (list.length === 0) {
      panel.append(el('div', { class: 'empty', text: 'No alert matches these filters.' }));
      main.append(panel);
      return;
    }
    const table = el('table', { id: 'alert-table' }, el('tr', null, el('th', { text: 'event time (UTC)' }), el('th', { text: 'severity' }),
      el('th', { text: 'rule' }), el('th', { text: 'host' }), el('th', { text: 'reason' })));
    for (const a of list.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
      const row = el('tr', { class: 'alert-row', 'data-alert-id': a.id, 'data-host': hosts[a.host].name, 'data-severity': SEV[a.sev] },
        el('td', { class: 'mono time', text: iso(a.otime) }), el('td', null, sevBadge(a.sev)),
        el('td', { text: rules[a.rule].name }, a.seq ? el('span', { class: 'tag', text: 'sequence' }) : null, a.bb ? el('span', { class: 'tag', text: 'building block' }) : null),
        el('td', { text: hosts[a.host].name }), el('td', { text: a.reason }));
      table.append(row);
      const open = () => {
        const next = row.nextSibling;
        if (next && next.classList.contains('detail')) { next.remove(); row.classList.remove('open'); state.open = ''; writeHash(); return; }
        row.classList.add('open');
        row.after(el('tr', { class: 'detail' }, el('td', { colspan: '5' }, details(a))));
        state.open = a.id; writeHash();
      };
      row.addEventListener('click', open);
      if (state.open === a.id) { open(); requestAnimationFrame(() => row.scrollIntoView({ block: 'start' })); }
    }
    panel.append(table, pager());
    main.append(panel);
  }

  function kv(pairs) {
    const dl = el('dl', { class: 'kv' });
    for (const [k, v] of pairs) if (v !== '' && v !== undefined && v !== null) dl.append(el('dt', { text: k }), el('dd', { text: String(v) }));
    return dl;
  }
  function fieldPairs(a) {
    const f = a.raw[10], out = [];
    for (let i = 0; i + 1 < f.length; i += 2) out.push([S[f[i]], S[f[i + 1]]]);
    return out;
  }
  function fieldOf(a, label) {
    for (const [k, v] of fieldPairs(a)) if (k === label) return v;
    return '';
  }
  function processTree(a) {
    // ancestry is parent first: the tree runs from the oldest ancestor down to the alerting process.
    const chain = a.raw[11].map((p) => D.procs[p].map((s) => S[s])).reverse();
    const self = [fieldOf(a, 'process'), fieldOf(a, 'pid'), fieldOf(a, 'entity id'), fieldOf(a, 'executable'), fieldOf(a, 'command line'), fieldOf(a, 'user'), '', ''];
    if (!chain.length && !self[0] && !self[1]) return null;
    const root = el('ul', { class: 'tree process-tree' });
    let parent = root;
    const hasSelf = self[0] !== '' || self[1] !== '';
    const nodes = hasSelf ? chain.concat([self]) : chain;
    nodes.forEach((p, depth) => {
      const alerting = hasSelf && depth === nodes.length - 1;
      const li = el('li', { class: alerting ? 'proc proc-alerting' : 'proc', 'data-name': p[0], 'data-pid': p[1] },
        el('span', { class: 'proc-name', text: p[0] || '?' }), el('span', { class: 'muted', text: ' pid ' + (p[1] || '?') }),
        p[5] ? el('span', { class: 'tag', text: p[5] }) : null, p[7] ? el('span', { class: 'tag', text: 'linked by ' + p[7] }) : null,
        p[6] ? el('span', { class: 'tag', text: 'started ' + p[6] }) : null,
        (p[4] || p[3]) ? el('span', { class: 'proc-cmd', text: p[4] || p[3] }) : null);
      const ul = el('ul');
      li.append(ul);
      parent.append(li);
      parent = ul;
    });
    return root;
  }
  function rowsTable(cls, head, flat, width) {
    if (!flat.length) return null;
    const t = el('table', { class: cls }, el('tr', null, ...head.map((h) => el('th', { text: h }))));
    for (let i = 0; i + width - 1 < flat.length; i += width) {
      t.append(el('tr', null, ...flat.slice(i, i + width).map((s) => el('td', { class: 'mono', text: S[s] }))));
    }
    return t;
  }
  function context(a, box) {
    const tree = processTree(a);
    if (tree) box.append(el('h3', { text: 'Process ancestry' }), tree);
    const mods = rowsTable('modules', ['module', 'signer', 'signature', 'loaded'], a.raw[12], 4);
    if (mods) box.append(el('h3', { text: 'Loaded modules' }), mods);
    const prov = rowsTable('provenance', ['file', 'written by', 'pid', 'executable', 'when'], a.raw[13], 5);
    if (prov) box.append(el('h3', { text: 'File provenance' }), prov);
    const net = rowsTable('network', ['destination', 'port', 'when'], a.raw[14], 3);
    if (net) box.append(el('h3', { text: 'Network connections' }), net);
  }
  function details(a) {
    const r = rules[a.rule];
    const box = el('div', { class: 'details', 'data-alert-id': a.id });
    box.append(el('p', { text: a.reason }));
    box.append(kv([['alert id', a.id], ['rule', r.name + '  (' + r.type + ', risk ' + r.risk + ', rule_id ' + r.id + ')'],
      ['event time', iso(a.otime)], ['alert time', iso(a.time)], ['host', hosts[a.host].name],
      ['techniques', r.techs.map((t) => t + ' ' + techName(t)).join('; ')]]));
    if (r.description) box.append(el('p', { class: 'note', text: r.description }));
    const refs = r.refs.filter(safeUrl);
    if (refs.length) {
      const ul = el('ul', { class: 'note' });
      for (const u of refs) ul.append(el('li', null, el('a', { href: u, rel: 'noopener noreferrer', target: '_blank', text: u })));
      box.append(el('h3', { text: 'References' }), ul);
    }
    const fields = fieldPairs(a);
    if (fields.length) box.append(el('h3', { text: 'Event' }), kv(fields));
    context(a, box);
    const blocks = a.seq ? groups.get(a.group) || [] : [];
    if (blocks.length) {
      box.append(el('h3', { text: 'Sequence: ' + blocks.length + ' event(s) in order' }));
      for (const b of blocks) {
        const div = el('div', { class: 'block', 'data-alert-id': b.id },
          el('p', null, el('b', { text: 'event ' + (b.gindex + 1) + ' · ' + iso(b.otime) }), ' ', b.reason));
        div.append(kv(fieldPairs(b)));
        if (b.raw[15].length) div.append(el('p', { class: 'note', text: 'source: ' + b.raw[15].map((s) => S[s]).join('; ') }));
        context(b, div);
        box.append(div);
      }
    }
    if (a.raw[15].length) {
      box.append(el('h3', { text: 'Source' }));
      const ul = el('ul', { class: 'sources mono' });
      for (const s of a.raw[15]) ul.append(el('li', { text: S[s] }));
      box.append(ul);
    }
    return box;
  }

  // ---- hosts ------------------------------------------------------------
  function renderHosts() {
    const panel = el('section', { class: 'panel' }, el('h2', { text: 'Hosts (click one for its story: its alerts in time order)' }));
    const t = el('table', { id: 'host-table' }, el('tr', null, el('th', { text: 'host' }), el('th', { class: 'num', text: 'alerts' }),
      ...[3, 2, 1, 0].map((s) => el('th', { class: 'num', text: SEV[s] })), el('th', { text: 'first' }), el('th', { text: 'last' }), el('th', { text: 'top rules' })));
    const ruleCounts = new Map();
    for (const a of shown) {
      const k = a.host;
      if (!ruleCounts.has(k)) ruleCounts.set(k, new Map());
      const m = ruleCounts.get(k);
      m.set(a.rule, (m.get(a.rule) || 0) + 1);
    }
    for (const h of [...hosts].filter((h) => h.count > 0).sort((x, y) => y.bySev[3] - x.bySev[3] || y.bySev[2] - x.bySev[2] || y.count - x.count)) {
      const topRules = [...(ruleCounts.get(h.i) || new Map())].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([r, n]) => rules[r].name + ' (' + n + ')').join('; ');
      t.append(el('tr', { class: 'host-row', 'data-host': h.name, on: { click: () => go({ view: 'alerts', host: h.name, order: 'asc' }) } },
        el('td', { text: h.name || '(no host.name)' }), el('td', { class: 'num', text: String(h.count) }),
        ...[3, 2, 1, 0].map((s) => el('td', { class: 'num', text: String(h.bySev[s]) })),
        el('td', { class: 'mono', text: iso(h.first) }), el('td', { class: 'mono', text: iso(h.last) }), el('td', { text: topRules })));
    }
    panel.append(t);
    main.append(panel);
  }

  // ---- ATT&CK matrix ----------------------------------------------------
  function renderAttack() {
    const alertCounts = new Map();
    for (const a of shown) {
      const seen = new Set();
      for (const t of rules[a.rule].techs) seen.add(parentOf(t));
      for (const id of seen) alertCounts.set(id, (alertCounts.get(id) || 0) + 1);
    }
    const all = state.matrix === 'all';
    const panel = el('section', { class: 'panel' }, el('h2', { text: 'ATT&CK Enterprise ' + D.attack.version + ': techniques by tactic' }));
    panel.append(el('div', { class: 'legend' },
      el('span', null, el('i', { class: 'heat' }), 'alerts (darker: more)'),
      D.coverage ? el('span', null, el('i', { class: 'ready' }), 'ready') : null,
      D.coverage ? el('span', null, el('i', { class: 'degraded' }), 'degraded') : null,
      D.coverage ? el('span', null, el('i', { class: 'blind' }), 'blind (coverage from ' + D.coverage.file + ')') : el('span', { text: 'no coverage given (vigil report --coverage FILE from vigil coverage --json)' }),
      el('button', { class: 'link', id: 'matrix-all', text: all ? 'show techniques with rules or alerts' : 'show every technique', on: { click: () => go({ view: 'attack', matrix: all ? '' : 'all' }) } })));
    const maxAlerts = Math.max(1, ...alertCounts.values());
    const grid = el('div', { class: 'matrix', id: 'matrix' });
    grid.style.gridTemplateColumns = 'repeat(' + tactics.length + ', minmax(92px, 1fr))';
    const detail = el('div', { id: 'technique-detail' });
    for (const tac of tactics) {
      const col = el('div', { class: 'tactic', 'data-tactic': tac.id }, el('h4', { text: tac.name }));
      const list = [];
      for (const t of techniques.values()) {
        if (t.id.includes('.') || !t.tactics.includes(tac.i)) continue;
        const n = alertCounts.get(t.id) || 0, rs = techRules.get(t.id), cov = coverageOf(t.id);
        if (!all && !n && !rs && !(cov && cov[3].length)) continue;
        list.push({ t, n, rs, cov });
      }
      list.sort((x, y) => y.n - x.n || (x.t.name < y.t.name ? -1 : 1));
      for (const { t, n, rs, cov } of list) {
        const status = coverageStatus(cov);
        const heat = n ? Math.min(4, 1 + Math.floor(n / maxAlerts * 3.999)) : 0;
        const names = ruleNames(rs, cov);
        const cell = el('button', { class: 'cell' + (heat ? ' heat-' + heat : '') + (status ? ' cov-' + status : ''), 'data-technique': t.id,
          'data-alerts': String(n), 'data-coverage': status, 'data-rules': String(names.length),
          title: t.id + ' ' + t.name + (names.length ? '\nrules: ' + names.join('; ') : '') },
          n ? el('span', { class: 'n', text: String(n) }) : null, t.id + ' ', el('span', { text: t.name }));
        cell.addEventListener('click', () => showTechnique(detail, t.id, n, names, cov));
        col.append(cell);
      }
      grid.append(col);
    }
    panel.append(grid, detail);
    main.append(panel);
  }
  // The rules of a technique cell: those mapped to it (rs: rule indexes) and those coverage names, sorted.
  function ruleNames(rs, cov) {
    const names = new Set(cov ? cov[3] : []);
    if (rs) for (const r of rs) names.add(rules[r].name);
    return [...names].sort();
  }
  function showTechnique(box, id, n, names, cov) {
    box.replaceChildren();
    const panel = el('section', { class: 'panel', 'data-technique': id }, el('h2', { text: id + ' ' + techName(id) }));
    panel.append(el('p', null, String(n) + ' alert(s) · ',
      el('button', { class: 'link', text: 'list them', on: { click: () => go({ view: 'alerts', tech: id }) } })));
    if (cov) panel.append(el('p', { text: 'coverage (rules × hosts): ' + cov[0] + ' ready, ' + cov[1] + ' degraded, ' + cov[2] + ' blind' }));
    const ul = el('ul', { class: 'technique-rules' });
    for (const name of names) ul.append(el('li', { text: name }));
    panel.append(el('h3', { text: 'Rules' }), names.length ? ul : el('p', { class: 'muted', text: 'none' }));
    const subs = [...techniques.values()].filter((t) => parentOf(t.id) === id && t.id !== id && (techRules.has(t.id) || (coverage && coverage[t.id])));
    if (subs.length) {
      const sl = el('ul');
      for (const s of subs) sl.append(el('li', { text: s.id + ' ' + s.name }));
      panel.append(el('h3', { text: 'Sub-techniques with rules' }), sl);
    }
    box.append(panel);
    panel.scrollIntoView({ block: 'nearest' });
  }

  readHash();
  window.addEventListener('hashchange', () => { readHash(); render(); });
  render();
  // Since navigation start (reading the file and its data included), and this script's own share.
  document.body.setAttribute('data-render-ms', String(Math.round(performance.now())));
  document.body.setAttribute('data-script-ms', String(Math.round(performance.now() - started)));
  document.body.setAttribute('data-ready', '1');
}
})();
