// 监测预警 (monitoring and early warning) in the internal application: the live event stream
// (GET /api/v1/events, server-sent events) that marks alarmed units on the map and restyles
// a unit whose grade an alarm raised, the header's count of open alarms, the alarm panel
// 报警 (确认, 处置 with the action taken, 转为隐患; filters; an optional beep), the unit
// details' 监测点 section (each point's latest value and level, its readings as a uPlot chart
// with the thresholds in their level colours, and for editors the points' 新增 / 编辑 / 删除)
// and the alarm statistics card of the supervision view. uPlot is its own chunk, loaded with
// the first chart; the statistics' charts are ECharts (charts.js), loaded with the card.
// Every value from the server goes in as text (dom.js's h()).
import L from '../lib/leaflet.js';
import { h, replace, toast, fmtNumber, debounce } from '../lib/dom.js';
import { grade } from '../lib/grades.js';
import { query } from '../lib/api.js';
import { fmtDateTime } from '../lib/labels.js';
import 'uplot/dist/uPlot.min.css';
import '../css/monitoring.css';

export const LEVELS = ['red', 'orange', 'yellow', 'blue'];
export const LEVEL_LABEL = { red: '红色预警', orange: '橙色预警', yellow: '黄色预警', blue: '蓝色预警' };
export const ALARM_STATUS = { active: '报警中', acknowledged: '已确认', disposed: '已处置', closed: '已关闭' };
const RANK = { blue: 1, yellow: 2, orange: 3, red: 4 };
const SOUND_KEY = 'riskmap.alarmSound';
const RANGES = [
  { code: '24h', label: '24小时', ms: 24 * 3600e3 },
  { code: '7d', label: '7天', ms: 7 * 24 * 3600e3 },
  { code: '30d', label: '30天', ms: 30 * 24 * 3600e3 },
];
const STEP_LABEL = {
  raw: '原始读数',
  '1m': '每分钟汇总（最小 / 平均 / 最大）',
  '5m': '每 5 分钟汇总（最小 / 平均 / 最大）',
  '15m': '每 15 分钟汇总（最小 / 平均 / 最大）',
  '30m': '每 30 分钟汇总（最小 / 平均 / 最大）',
  '1h': '每小时汇总（最小 / 平均 / 最大）',
};

/** levelChip is a warning level as a small label in its colour (正常 when there is none). */
export function levelChip(level, text) {
  const g = grade(level);
  const el = h('span.mon-level', { dataset: { level: level || '' } }, text || LEVEL_LABEL[level] || '正常');
  if (LEVEL_LABEL[level]) {
    el.style.background = g.fill;
    el.style.borderColor = g.outline;
    el.style.color = level === 'yellow' || level === 'orange' ? '#1d1d1d' : '#fff';
  }
  return el;
}

/** fmtValue writes a reading with its unit of measure. */
function fmtValue(v, unit) {
  if (v == null || Number.isNaN(Number(v))) return '—';
  const n = Number(v);
  const s = Math.abs(n) >= 1000 ? n.toLocaleString('zh-CN', { maximumFractionDigits: 1 }) : String(Math.round(n * 1000) / 1000);
  return unit ? `${s} ${unit}` : s;
}

/** fmtDuration writes seconds as 秒 / 分钟 / 小时. */
export function fmtDuration(s) {
  if (s == null || !Number.isFinite(Number(s))) return '—';
  s = Number(s);
  if (s < 60) return `${Math.round(s)} 秒`;
  if (s < 3600) return `${(s / 60).toFixed(1)} 分钟`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} 小时`;
  return `${(s / 86400).toFixed(1)} 天`;
}

function cell(label, value, cls) {
  const empty = value == null || value === '' || (Array.isArray(value) && !value.length);
  return h('td', { class: cls || null, dataset: empty ? { label, empty: '1' } : { label } }, empty ? '' : value);
}

/** pointLabel names a point: its code and kind. */
function pointLabel(a) {
  return `${a.point_code || `#${a.point_id}`}${a.kind_label ? ` · ${a.kind_label}` : ''}`;
}

/**
 * Monitoring is the live part of 监测预警 for one logged-in session. api: the Api; app: the
 * map application (createMapApp); session; ctx: the lookups (regionName); onUnit(id): show
 * a unit; onHazard(id): show a hidden danger; onGrade(unitId): a unit's grade changed;
 * onPanel(): the alarm panel is about to open (the other panels close).
 */
export class Monitoring {
  constructor({ api, app, session, ctx, onUnit, onHazard, onGrade, onPanel }) {
    Object.assign(this, { api, app, session, ctx, onUnit, onHazard, onGrade, onPanel });
    this.alarms = new Map(); // open alarms by id (AlarmView)
    this.unitLevels = new Map(); // unit id → highest open level (the map's rings)
    this.places = new Map(); // unit id → L.LatLng of its ring
    this.rings = new Map(); // unit id → L.Marker
    this.es = null;
    this.filters = { status: 'open', level: '' };
    this.sound = localStorage.getItem(SOUND_KEY) === '1';
    this.kindsP = null;
    this.section = null; // the unit details' 监测点 section on show: {unitId, reload}
    const map = app.map;
    if (!map.getPane('alarms')) {
      map.createPane('alarms');
      map.getPane('alarms').style.zIndex = 640;
    }
    this.badge = document.querySelector('#btn-alarms .alarm-count');
    this.el = h('section#alarms.admin.alarms', { hidden: true, role: 'dialog', 'aria-label': '监测报警' });
    document.body.appendChild(this.el);
    this.onKey = (e) => {
      if (e.key === 'Escape' && !e.target.closest('input, textarea, select')) this.close();
    };
    this.reloadAlarms = debounce(() => this.loadOpen(), 400);
    this.reloadPanel = debounce(() => this.loadList(), 300);
    this.refreshMap = debounce(() => this.app.refreshData(), 1500);
  }

  get editable() {
    return !!this.app.cfg.editable;
  }

  // ---- the event stream ----

  /** start opens the event stream (after the login); the browser reconnects by itself. */
  start() {
    this.stop();
    const es = new EventSource('/api/v1/events');
    this.es = es;
    document.body.dataset.events = 'connecting';
    es.addEventListener('open', () => (document.body.dataset.events = 'open'));
    es.addEventListener('snapshot', (e) => this.onSnapshot(parse(e.data)));
    es.addEventListener('alarm', (e) => this.onAlarm(parse(e.data)));
    es.addEventListener('grade', (e) => this.onGradeEvent(parse(e.data)));
    es.addEventListener('error', () => {
      if (this.es !== es) return;
      document.body.dataset.events = es.readyState === EventSource.CLOSED ? 'closed' : 'connecting';
      // A refused stream is not retried by the browser. When the session has ended (the
      // server ends the stream at logout, expiry or a disabled account, and refuses it 401),
      // a request of the API says so and the login form is shown (it starts the stream
      // again); otherwise (the server restarting) try again a little later.
      if (es.readyState === EventSource.CLOSED) {
        clearTimeout(this.retry);
        const later = () => {
          if (this.es === es) this.retry = setTimeout(() => this.es === es && this.start(), 10_000);
        };
        // 401: the login form takes over.
        this.api.get('/alarms?' + query({ open: 1, limit: 1 })).then(later, (err) => err?.status !== 401 && later());
      }
    });
  }

  /** stop closes the event stream (at logout). */
  stop() {
    clearTimeout(this.retry);
    if (this.es) this.es.close();
    this.es = null;
  }

  onSnapshot(d) {
    if (!d) return;
    const levels = new Map();
    for (const [id, level] of Object.entries(d.alarmed_units || {})) if (RANK[level]) levels.set(Number(id), level);
    this.unitLevels = levels;
    this.drawRings();
    this.loadOpen();
  }

  onAlarm(d) {
    const a = d && d.alarm;
    if (!a || !a.id) return;
    const was = this.alarms.get(a.id);
    if (a.status === 'closed') this.alarms.delete(a.id);
    else this.alarms.set(a.id, { ...(was || {}), ...a });
    this.unitLevel(a.unit_id);
    this.updateBadge();
    // A new red or orange alarm (or one raised to them) beeps, if the user asked for sound.
    if (this.sound && ['open', 'escalate', 'recur'].includes(d.kind) && (a.level === 'red' || a.level === 'orange')) this.beep(a.level);
    if (!this.el.hidden && this.tab === 'list') this.reloadPanel();
    if (this.section && this.section.unitId === a.unit_id) this.section.reload();
  }

  onGradeEvent(d) {
    if (!d || !d.unit_id) return;
    // The unit's colour changes at once; the tiles, the legend and the regions follow.
    this.app.units.setLiveGrade(d.unit_id, d.grade || '');
    this.refreshMap();
    document.body.dataset.lastGrade = `${d.unit_id}:${d.grade || ''}`;
    if (this.onGrade) this.onGrade(d.unit_id, d);
  }

  /** loadOpen reads every open alarm in scope (the badge and the rings). */
  async loadOpen() {
    let r;
    try {
      r = await this.api.get('/alarms?' + query({ open: 1, limit: 1000 }));
    } catch {
      return;
    }
    this.alarms = new Map((r.items || []).map((a) => [a.id, a]));
    this.updateBadge();
    // The snapshot knows every unit; the list adds what arrived since.
    for (const a of this.alarms.values()) this.unitLevel(a.unit_id, true);
    this.drawRings();
  }

  /** unitLevel recomputes a unit's highest open level from the open alarms. */
  unitLevel(unitId, quiet = false) {
    let best = '';
    for (const a of this.alarms.values()) if (a.unit_id === unitId && RANK[a.level] > (RANK[best] || 0)) best = a.level;
    if (best) this.unitLevels.set(unitId, best);
    else this.unitLevels.delete(unitId);
    if (!quiet) this.drawRings();
  }

  updateBadge() {
    const n = this.alarms.size;
    document.body.dataset.alarms = String(n);
    if (!this.badge) return;
    this.badge.textContent = n > 999 ? '999+' : String(n);
    this.badge.dataset.count = String(n);
    let top = '';
    for (const a of this.alarms.values()) if (RANK[a.level] > (RANK[top] || 0)) top = a.level;
    this.badge.dataset.level = top;
    this.badge.title = `未关闭的报警：${n} 条`;
  }

  // ---- the rings on the map ----

  drawRings() {
    for (const [id, m] of this.rings) {
      if (!this.unitLevels.has(id)) {
        m.remove();
        this.rings.delete(id);
      }
    }
    const missing = [];
    for (const [id, level] of this.unitLevels) {
      const at = this.places.get(id);
      if (!at) {
        missing.push(id);
        continue;
      }
      const m = this.rings.get(id);
      if (m) {
        const el = m.getElement() && m.getElement().querySelector('.alarm-ring');
        if (el && el.dataset.level !== level) paintRing(el, level);
        continue;
      }
      this.rings.set(id, this.ring(id, level, at));
    }
    if (missing.length) this.locate(missing);
  }

  ring(id, level, at) {
    const el = h('div.alarm-ring', { dataset: { unit: String(id) } });
    paintRing(el, level);
    const m = L.marker(at, {
      pane: 'alarms',
      icon: L.divIcon({ html: el, className: 'alarm-ring-icon', iconSize: [34, 34] }),
      keyboard: false,
      title: `监测报警：${LEVEL_LABEL[level] || ''}`,
    });
    m.on('click', () => this.onUnit && this.onUnit(id));
    m.addTo(this.app.map);
    return m;
  }

  /**
   * locate finds where the rings of units go: the unit's point, or the centre of its line
   * or area. Many at once (the snapshot) are placed at their alarmed points first, from one
   * request; the rest ask for their unit, a few at a time.
   */
  async locate(ids) {
    this.locating = this.locating || new Set();
    let todo = ids.filter((id) => !this.places.has(id) && !this.locating.has(id));
    if (!todo.length) return;
    for (const id of todo) this.locating.add(id);
    if (todo.length > 3) {
      try {
        const r = await this.api.get('/monitoring-points?' + query({ alarmed: 1 }));
        for (const p of r.items || []) {
          const [lon, lat] = p.location || [];
          if (todo.includes(p.unit_id) && !this.places.has(p.unit_id) && Number.isFinite(lon) && Number.isFinite(lat)) this.places.set(p.unit_id, L.latLng(lat, lon));
        }
      } catch {
        /* each unit is asked for below */
      }
    }
    const rest = todo.filter((id) => !this.places.has(id));
    for (let i = 0; i < rest.length; i += 4) {
      await Promise.all(rest.slice(i, i + 4).map(async (id) => {
        try {
          const f = (await this.api.unit(id)).data;
          const c = unitCentre(f);
          if (c) this.places.set(id, L.latLng(c[1], c[0]));
        } catch {
          /* out of scope or gone: no ring */
        }
      }));
    }
    for (const id of todo) this.locating.delete(id);
    if (todo.some((id) => this.places.has(id))) this.drawRings();
  }

  // ---- sound ----

  setSound(on) {
    this.sound = on;
    localStorage.setItem(SOUND_KEY, on ? '1' : '0');
    if (on) {
      // Created on the click: browsers let a page sound only after a gesture.
      this.audio = this.audio || new (window.AudioContext || window.webkitAudioContext)();
      this.audio.resume && this.audio.resume();
    }
  }

  /** beep sounds two short tones (red higher than orange); no file. */
  beep(level) {
    try {
      this.audio = this.audio || new (window.AudioContext || window.webkitAudioContext)();
      const ctx = this.audio;
      const f = level === 'red' ? 1046 : 784;
      for (const t of [0, 0.28]) {
        const o = ctx.createOscillator();
        const g = ctx.createGain();
        o.type = 'square';
        o.frequency.value = f;
        g.gain.setValueAtTime(0.0001, ctx.currentTime + t);
        g.gain.exponentialRampToValueAtTime(0.15, ctx.currentTime + t + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + t + 0.2);
        o.connect(g).connect(ctx.destination);
        o.start(ctx.currentTime + t);
        o.stop(ctx.currentTime + t + 0.22);
      }
      this.beeps = (this.beeps || 0) + 1;
      document.body.dataset.beeps = String(this.beeps);
    } catch {
      /* no audio: the panel and the map still say it */
    }
  }

  // ---- the alarm panel 报警 ----

  toggle() {
    if (this.el.hidden) this.open();
    else this.close();
  }

  open(tab = 'list') {
    if (this.onPanel) this.onPanel();
    this.tab = tab;
    this.el.hidden = false;
    document.body.classList.add('alarms-open');
    document.addEventListener('keydown', this.onKey);
    this.render();
  }

  close() {
    if (this.el.hidden) return;
    this.el.hidden = true;
    document.body.classList.remove('alarms-open');
    document.removeEventListener('keydown', this.onKey);
  }

  render() {
    this.body = h('div.admin-body.mon-body');
    const tabs = [{ code: 'list', label: '报警列表' }, { code: 'stats', label: '报警统计' }];
    replace(this.el,
      h('div.admin-head',
        h('h2', '监测报警'),
        h('nav.admin-tabs', { role: 'tablist' }, tabs.map((t) =>
          h('button', { type: 'button', role: 'tab', class: t.code === this.tab ? 'active' : null, 'aria-selected': String(t.code === this.tab), dataset: { tab: t.code }, onclick: () => this.open(t.code) }, t.label))),
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.close() }, '×')),
      this.body);
    this.el.dataset.tab = this.tab;
    if (this.tab === 'stats') {
      this.body.appendChild(this.statsCard());
      return;
    }
    const f = this.filters;
    const set = (k) => (e) => {
      f[k] = e.target.value;
      this.loadList();
    };
    const sound = h('input#mon-sound', { type: 'checkbox', checked: this.sound, onchange: (e) => this.setSound(e.target.checked) });
    this.listStatus = h('span.hz-list-status', '正在加载…');
    this.actionBox = h('div.hz-action-box.mon-action-box', { hidden: true, role: 'dialog', 'aria-label': '处置报警' });
    this.listOut = h('div.admin-list.mon-list');
    replace(this.body,
      h('section.admin-section.hz-filters.mon-filters',
        h('div.hz-filter-row',
          h('label.form-field', h('span', '状态'), h('select#mon-f-status', { onchange: set('status') },
            h('option', { value: 'open', selected: f.status === 'open' }, '未关闭'),
            Object.entries(ALARM_STATUS).map(([k, v]) => h('option', { value: k, selected: f.status === k }, v)),
            h('option', { value: '', selected: f.status === '' }, '全部'))),
          h('label.form-field', h('span', '级别'), h('select#mon-f-level', { onchange: set('level') },
            h('option', { value: '' }, '全部级别'),
            LEVELS.map((l) => h('option', { value: l, selected: f.level === l }, LEVEL_LABEL[l])))),
          h('label.check.mon-sound', { title: '有新的红色或橙色预警时发出提示音' }, sound, h('span.mon-bell', { 'aria-hidden': 'true' }), '声音提示'),
          h('span.hz-spacer'),
          this.listStatus,
          this.csvLink = h('a.btn.btn-small', { href: '/api/v1/alarms.csv', download: '', dataset: { action: 'alarms-csv' } }, '导出 CSV'))),
      this.actionBox,
      h('section.admin-section', this.listOut));
    this.loadList();
  }

  async loadList() {
    if (this.el.hidden || this.tab !== 'list' || !this.listOut) return;
    const seq = (this.listSeq = (this.listSeq || 0) + 1);
    const f = this.filters;
    const params = { open: f.status === 'open' ? 1 : null, status: f.status !== 'open' ? f.status : null, level: f.level };
    // The CSV has every row the filters select.
    this.csvLink.href = `/api/v1/alarms.csv?${query(params)}`;
    let r;
    try {
      r = await this.api.get('/alarms?' + query({ ...params, limit: 500 }));
    } catch (e) {
      if (seq === this.listSeq) this.listStatus.textContent = `加载失败：${e.message}`;
      return;
    }
    if (seq !== this.listSeq) return;
    const items = r.items || [];
    const n = r.total ?? items.length;
    this.listStatus.textContent = `共 ${fmtNumber(n)} 条报警`;
    this.listStatus.dataset.count = String(n);
    replace(this.listOut, this.alarmTable(items));
  }

  alarmTable(items) {
    const editable = this.editable;
    const region = (code) => {
      const full = this.ctx.regionName(code);
      const m = /^(.*?)（/.exec(full);
      return m ? m[1].split(' / ').pop() : full;
    };
    return h('table.admin-table.mon-table',
      h('thead', h('tr', ['级别', '报警编号', '风险单元', '监测点', '当前值', '峰值', '报警时间', '状态', '所属区域', '操作'].map((t) => h('th', t)))),
      h('tbody', items.length ? items.map((a) => {
        const offline = a.rule === 'offline';
        const actions = [];
        if (editable && a.status === 'active') actions.push(h('button.btn.btn-small', { type: 'button', dataset: { action: 'acknowledge' }, onclick: () => this.act(a, 'acknowledge') }, '确认'));
        if (editable && (a.status === 'active' || a.status === 'acknowledged')) actions.push(h('button.btn.btn-small.btn-primary', { type: 'button', dataset: { action: 'dispose' }, onclick: () => this.disposeBox(a) }, '处置'));
        if (editable && a.status !== 'closed' && !offline) actions.push(h('button.btn.btn-small', { type: 'button', dataset: { action: 'to-hazard' }, onclick: (e) => this.toHazard(a, e.currentTarget) }, '转为隐患'));
        return h('tr', { dataset: { id: String(a.id), code: a.code || '', level: a.level || '', status: a.status || '', unit: String(a.unit_id) } },
          cell('级别', levelChip(a.level, a.level_label)),
          cell('报警编号', a.code, 'nowrap'),
          cell('风险单元', h('button.linklike', { type: 'button', onclick: () => { this.close(); this.onUnit && this.onUnit(a.unit_id); } }, a.unit_name ? `${a.unit_name}（${a.unit_code || ''}）` : a.unit_code || `#${a.unit_id}`)),
          cell('监测点', pointLabel(a)),
          cell('当前值', offline ? h('span.mon-offline', '离线（未按时上报）') : fmtValue(a.last_value, a.unit_of_measure), 'nowrap'),
          cell('峰值', offline ? '' : fmtValue(a.peak, a.unit_of_measure), 'nowrap'),
          cell('报警时间', fmtDateTime(a.opened_at, true), 'nowrap'),
          cell('状态', h('span.mon-status', { dataset: { status: a.status || '' } }, a.status_label || ALARM_STATUS[a.status] || a.status,
            a.status === 'disposed' && !a.normal ? h('small', '（数值未恢复）') : null)),
          cell('所属区域', region(a.region_code)),
          cell('操作', actions.length ? h('span.mon-actions', actions) : '', 'col-actions'));
      }) : h('tr', h('td.empty', { colspan: 10 }, '没有符合条件的报警'))));
  }

  /** act acknowledges (or disposes, with note) alarm a. */
  async act(a, action, note) {
    try {
      const r = await this.api.post(`/alarms/${encodeURIComponent(a.id)}/transitions`, note != null ? { action, note } : { action });
      toast(action === 'acknowledge' ? `已确认报警 ${a.code}` : `已处置报警 ${a.code}${r && r.status === 'closed' ? '，数值已恢复正常，报警关闭' : ''}`, 'ok');
      if (r && r.id) this.onAlarm({ kind: action, alarm: r });
      this.actionBox.hidden = true;
      this.loadList();
      return true;
    } catch (e) {
      toast(`操作失败：${e.message}`, 'error', 6000);
      return false;
    }
  }

  /** disposeBox asks for the action taken (处置措施) before disposing alarm a. */
  disposeBox(a) {
    const box = this.actionBox;
    const note = h('textarea#mon-note', { rows: 3, maxlength: 2000, placeholder: '如：已关闭阀门，通风后复测正常' });
    const err = h('div.field-error', { role: 'alert' });
    const confirm = async () => {
      const v = note.value.trim();
      if (!v) {
        err.textContent = '请填写处置措施';
        note.focus();
        return;
      }
      btn.disabled = true;
      if (!(await this.act(a, 'dispose', v))) btn.disabled = false;
    };
    const btn = h('button.btn.btn-small.btn-primary', { type: 'button', dataset: { action: 'confirm-dispose' }, onclick: confirm }, '确认处置');
    replace(box,
      h('h4', `处置报警 ${a.code || ''}：${a.unit_name || ''} · ${pointLabel(a)}`),
      h('label', { for: 'mon-note' }, '处置措施', h('span.req', ' *')),
      note, err,
      h('p.hint', '数值恢复正常且已处置的报警自动关闭；单元等级随之恢复。'),
      h('div.reject-actions', btn, h('button.btn.btn-small', { type: 'button', onclick: () => (box.hidden = true) }, '取消')));
    box.hidden = false;
    box.scrollIntoView({ block: 'nearest' });
    note.focus();
  }

  /** toHazard turns alarm a into a hidden danger of its unit, in one step. */
  async toHazard(a, btn) {
    btn.disabled = true;
    try {
      const r = await this.api.post(`/alarms/${encodeURIComponent(a.id)}/hazard`, {});
      const hz = (r && r.hazard) || {};
      const p = hz.properties || hz;
      const id = p.id ?? hz.id;
      toast(`已转为隐患 ${p.code || ''}`, 'ok', 6000);
      if (r && r.alarm && r.alarm.id) this.onAlarm({ kind: 'acknowledge', alarm: r.alarm });
      this.loadList();
      if (id && this.onHazard) {
        this.close();
        this.onHazard(id);
      }
    } catch (e) {
      btn.disabled = false;
      toast(`未能转为隐患：${e.message}`, 'error', 6000);
    }
  }

  // ---- 报警统计 (the supervision view and the panel's tab) ----

  /** statsCard is the alarm statistics: counts, 报警处置率, mean times, charts by level, kind, department and region. */
  statsCard() {
    const out = h('section.admin-section.mon-stats', { dataset: { card: 'alarm-stats' } }, h('h3', '监测报警统计'), h('div.panel-loading', '正在加载…'));
    (async () => {
      let s;
      let charts;
      try {
        [s, charts] = await Promise.all([this.api.get('/alarms/stats'), import('./charts.js')]);
      } catch (e) {
        replace(out, h('h3', '监测报警统计'), h('div.panel-error', `无法加载报警统计：${e.message}`));
        return;
      }
      const n = (x) => Number(x) || 0;
      const rate = s.disposal_rate != null ? s.disposal_rate : n(s.total) ? n(s.disposed) / n(s.total) : 1;
      const ack = s.ack_seconds || {};
      const dis = s.dispose_seconds || {};
      const card = (key, label, value, title) => h('div.hz-count', { dataset: { count: key }, title: title || null }, h('strong', value), h('span', label));
      const shortRegion = (code) => {
        const m = /^(.*?)（/.exec(this.ctx.regionName(code) || '');
        return m ? m[1].split(' / ').pop() : code;
      };
      const label = {
        level: (r) => r.label || LEVEL_LABEL[r.key] || r.key,
        kind: (r) => r.label || r.key,
        department: (r) => r.label || r.key || '（未填写）',
        region: (r) => r.label || shortRegion(r.key),
      };
      const disposal = (r) => Math.round(1000 * (r.disposal_rate ?? (n(r.total) ? n(r.disposed) / n(r.total) : 1))) / 10;
      replace(out,
        h('h3', '监测报警统计'),
        h('div.hz-count-cards',
          card('total', '报警总数', fmtNumber(n(s.total))),
          card('open', '未关闭', fmtNumber(n(s.open))),
          card('disposal-rate', '报警处置率', `${(100 * rate).toFixed(1)}%`, '已处置（含处置后关闭）的报警 ÷ 报警总数'),
          card('ack-time', '平均确认时间', fmtDuration(ack.mean), ack.n ? `中位数 ${fmtDuration(ack.median)} · P90 ${fmtDuration(ack.p90)} · ${ack.n} 条` : ''),
          card('dispose-time', '平均处置时间', fmtDuration(dis.mean), dis.n ? `中位数 ${fmtDuration(dis.median)} · P90 ${fmtDuration(dis.p90)} · ${dis.n} 条` : '')),
        h('p.hint', '报警处置率 = 已处置（含处置后关闭）的报警 ÷ 报警总数；确认、处置时间自报警产生时起算。'),
        charts.chartBox('alarms-level', '报警数（按预警级别）'),
        charts.chartBox('alarms-kind', '报警数（按监测类型）'),
        charts.chartBox('alarms-department', '报警处置率（按监管部门）'),
        charts.chartBox('alarms-region', '报警处置率（按区域）'));
      const byLevel = LEVELS.map((l) => (s.by_level || []).find((r) => r.key === l) || { key: l, total: 0 });
      charts.drawBars(out, 'alarms-level', byLevel.map((r) => [label.level(r), n(r.total), grade(r.key).fill]), { unit: '条', sort: false });
      charts.drawBars(out, 'alarms-kind', (s.by_kind || []).map((r) => [label.kind(r), n(r.total)]), { unit: '条', colour: '#0a6ed1' });
      charts.drawBars(out, 'alarms-department', (s.by_department || []).map((r) => [label.department(r), disposal(r)]), { unit: '%', max: 100, colour: '#1b7f3b' });
      charts.drawBars(out, 'alarms-region', (s.by_region || []).map((r) => [label.region(r), disposal(r)]), { unit: '%', max: 100, colour: '#1b7f3b' });
    })();
    return out;
  }

  // ---- the unit details' 监测点 ----

  kinds() {
    if (!this.kindsP) {
      this.kindsP = this.api.get('/monitoring-kinds').then((r) => r.items || []).catch((e) => {
        this.kindsP = null;
        throw e;
      });
    }
    return this.kindsP;
  }

  /**
   * unitSection is the 监测点 section of unit feature f's details: its points with their
   * latest values and levels, a chart of the chosen one, and for an editor (canEdit) the
   * points' 新增 / 编辑 / 删除. It fills itself in when the points arrive.
   */
  unitSection(f, { canEdit = false } = {}) {
    const unitId = Number(f.id ?? f.properties.id);
    const sec = h('section.mon-points', { dataset: { unit: String(unitId) } }, h('h3', '监测点'), h('p.muted', '正在加载…'));
    const state = { open: null, range: '24h', form: false };
    const load = async () => {
      if (!sec.isConnected && state.loaded) return;
      let r;
      try {
        r = await this.api.get(`/units/${encodeURIComponent(unitId)}/monitoring-points`);
      } catch (e) {
        if (e.status === 404 && !state.loaded) {
          sec.remove(); // a server without monitoring
          return;
        }
        replace(sec, h('h3', '监测点'), h('p.muted', `无法加载监测点：${e.message}`));
        return;
      }
      state.loaded = true;
      if (state.form) return; // a form is open: it is not swept away
      const items = r.items || [];
      if (state.open == null && items.length) state.open = (items.find((p) => p.level) || items[0]).id;
      this.renderPoints(sec, f, items, state, { canEdit, reload: load });
    };
    this.section = { unitId, reload: throttle(load, 1500) };
    load();
    return sec;
  }

  renderPoints(sec, f, items, state, { canEdit, reload }) {
    const alarmed = items.filter((p) => p.level).length;
    const chartBox = h('div.mon-chart-wrap');
    replace(sec,
      h('h3', '监测点', h('span.count', ` 共 ${items.length} 个${alarmed ? ` · 预警 ${alarmed} 个` : ''}`)),
      items.length ? h('ul.mon-point-list', items.map((p) => {
        const latest = p.latest;
        return h('li', { dataset: { id: String(p.id), code: p.code, kind: p.kind, level: p.level || '', online: p.online === false ? '0' : '1' }, class: state.open === p.id ? 'open' : null },
          h('button.linklike.mon-point-name', { type: 'button', title: '查看曲线', onclick: () => {
            state.open = p.id;
            this.renderPoints(sec, f, items, state, { canEdit, reload });
          } }, p.code),
          h('span.mon-kind', p.kind_label || p.kind),
          levelChip(p.level),
          p.online === false ? h('span.mon-offline', '离线') : null,
          h('span.mon-latest', latest ? fmtValue(latest.value, p.unit_of_measure) : '暂无读数'),
          latest ? h('small.muted.mon-latest-time', fmtDateTime(latest.time, true)) : null,
          canEdit ? h('span.mon-point-actions',
            h('button.btn.btn-small', { type: 'button', dataset: { action: 'edit-point' }, onclick: () => this.pointForm(sec, f, p, state, reload) }, '编辑'),
            twoStep('删除', '确认删除', () => this.deletePoint(p, reload))) : null);
      })) : h('p.muted', '该单元没有监测点。'),
      items.length ? chartBox : null,
      canEdit ? h('button.btn.btn-small', { type: 'button', dataset: { action: 'new-point' }, onclick: () => this.pointForm(sec, f, null, state, reload) }, '＋ 新增监测点') : null);
    const p = items.find((x) => x.id === state.open);
    if (p) this.chart(chartBox, p, state);
  }

  /** chart draws point p's readings over the chosen range, with its thresholds. */
  async chart(box, p, state) {
    const rangeBtns = h('div.mon-ranges', { role: 'radiogroup', 'aria-label': '时间范围' }, RANGES.map((r) =>
      h('button', { type: 'button', role: 'radio', class: r.code === state.range ? 'active' : null, 'aria-checked': String(r.code === state.range), dataset: { range: r.code }, onclick: () => {
        state.range = r.code;
        this.chart(box, p, state);
      } }, r.label)));
    const plotEl = h('div.mon-plot', h('div.panel-loading', '正在加载…'));
    const note = h('p.hint.mon-chart-note');
    const readout = h('div.mon-readout', { 'aria-live': 'polite' });
    replace(box, h('div.mon-chart-head', h('strong', `${p.code} · ${p.kind_label || p.kind}`), rangeBtns), plotEl, readout, thresholdKey(p), note);
    box.dataset.point = String(p.id);
    box.dataset.range = state.range;
    const range = RANGES.find((r) => r.code === state.range);
    const to = new Date();
    const from = new Date(to.getTime() - range.ms);
    let data;
    let UPlot;
    try {
      [data, UPlot] = await Promise.all([
        this.api.get(`/monitoring-points/${encodeURIComponent(p.id)}/readings?` + query({ from: from.toISOString(), to: to.toISOString() })),
        import('uplot').then((m) => m.default),
      ]);
    } catch (e) {
      replace(plotEl, h('p.muted', `无法加载读数：${e.message}`));
      return;
    }
    if (box.dataset.point !== String(p.id) || box.dataset.range !== state.range) return;
    const samples = data.samples || [];
    box.dataset.step = data.step || '';
    box.dataset.samples = String(samples.length);
    note.textContent = `${STEP_LABEL[data.step] || data.step || ''} · ${fmtNumber(samples.length)} 个数据点 · 计量单位 ${p.unit_of_measure || ''}`;
    if (!samples.length) {
      replace(plotEl, h('p.muted.mon-no-data', '该时间范围内没有读数。'));
      return;
    }
    replace(plotEl);
    const xs = samples.map((s) => Date.parse(s.time) / 1000);
    const rolled = data.step && data.step !== 'raw';
    const lines = thresholdLines(p.thresholds);
    // The range shows the readings and the nearest threshold on each side, so the first
    // warning line is in view without flattening a quiet series under a far red line.
    const vals = samples.flatMap((s) => [s.min, s.max, s.avg]).filter(Number.isFinite);
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    const up = lines.filter((l) => l.side === 'upper').map((l) => l.value);
    const dn = lines.filter((l) => l.side === 'lower').map((l) => l.value);
    if (up.length) hi = Math.max(hi, Math.min(...up));
    if (dn.length) lo = Math.min(lo, Math.max(...dn));
    const pad = (hi - lo || Math.abs(hi) || 1) * 0.08;
    const series = [{}, { label: rolled ? '平均值' : '读数', stroke: '#0a6ed1', width: 1.6, points: { show: samples.length < 80 } }];
    const cols = [xs, samples.map((s) => s.avg)];
    const opts = {
      width: Math.max(240, plotEl.clientWidth || box.clientWidth || 360),
      height: 200,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: () => [lo - pad, hi + pad] } },
      // The time axis in Chinese: 14:00, and 12月6日 at midnight or for the longer ranges.
      axes: [
        { stroke: '#44505c', grid: { stroke: '#eef1f4' }, values: (u, splits, _i, _space, incr) => splits.map((t) => timeTick(t, incr)) },
        { stroke: '#44505c', grid: { stroke: '#eef1f4' }, size: 50 },
      ],
      series,
      hooks: {
        draw: [(u) => drawThresholds(u, lines)],
        // What the cursor points at, as text under the chart.
        setCursor: [(u) => {
          const i = u.cursor.idx;
          if (i == null || !samples[i]) {
            readout.textContent = '';
            return;
          }
          const s = samples[i];
          readout.textContent = `${fmtDateTime(s.time, true)} · ${rolled ? `平均 ${fmtValue(s.avg, p.unit_of_measure)}（最小 ${fmtValue(s.min)}，最大 ${fmtValue(s.max)}，${fmtNumber(s.count)} 个读数）` : fmtValue(s.avg, p.unit_of_measure)}`;
        }],
      },
    };
    if (rolled) {
      series.push({ label: '最小值', stroke: 'rgba(10,110,209,.35)', width: 1 }, { label: '最大值', stroke: 'rgba(10,110,209,.35)', width: 1 });
      cols.push(samples.map((s) => s.min), samples.map((s) => s.max));
      opts.bands = [{ series: [3, 2], fill: 'rgba(10,110,209,.14)' }];
    }
    if (this.plot) this.plot.destroy();
    this.plot = new UPlot(opts, cols, plotEl);
    const plot = this.plot;
    const ro = new ResizeObserver(() => {
      if (!plotEl.isConnected) {
        ro.disconnect();
        plot.destroy();
        return;
      }
      const w = plotEl.clientWidth;
      if (w > 0 && Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: 200 });
    });
    ro.observe(plotEl);
  }

  /** pointForm adds (p null) or edits point p of unit f, in the section. */
  async pointForm(sec, f, p, state, reload) {
    state.form = true;
    const unitId = Number(f.id ?? f.properties.id);
    let kinds = [];
    let kindErr = '';
    try {
      kinds = await this.kinds();
    } catch (e) {
      kindErr = `无法加载监测类型：${e.message}`;
    }
    let etag = null;
    if (p) {
      try {
        const res = await this.api.request('GET', `/monitoring-points/${encodeURIComponent(p.id)}`);
        p = res.data;
        etag = res.etag;
      } catch (e) {
        state.form = false;
        toast(`无法加载监测点：${e.message}`, 'error', 6000);
        return;
      }
    }
    const centre = unitCentre(f);
    const loc = p && p.location ? p.location : centre;
    const code = h('input#mon-p-code', { maxlength: 64, value: p ? p.code : '', placeholder: '如 JC-101' });
    const kindSel = h('select#mon-p-kind', { disabled: !!p }, kinds.length ? kinds.map((k) => h('option', { value: k.code, selected: p ? p.kind === k.code : false }, `${k.label}（${k.unit}）`)) : h('option', { value: p ? p.kind : '' }, p ? p.kind : '—'));
    const interval = h('input#mon-p-interval', { type: 'number', min: 1, max: 604800, step: 1, inputmode: 'numeric' });
    const lon = h('input#mon-p-lon', { type: 'number', step: 'any', value: loc ? String(round6(loc[0])) : '' });
    const lat = h('input#mon-p-lat', { type: 'number', step: 'any', value: loc ? String(round6(loc[1])) : '' });
    const th = {};
    const thRows = ['upper', 'lower'].map((side) => h('tr', { dataset: { side } }, h('th', side === 'upper' ? '上限（≥ 报警）' : '下限（≤ 报警）'),
      LEVELS.slice().reverse().map((l) => {
        const inp = h(`input#mon-p-${side}-${l}`, { type: 'number', step: 'any', 'aria-label': `${side === 'upper' ? '上限' : '下限'}${LEVEL_LABEL[l]}阈值` });
        th[`${side}.${l}`] = inp;
        return h('td', inp);
      })));
    const fillKind = (k, pt) => {
      const t = (pt && pt.thresholds) || (k && k.thresholds) || {};
      for (const side of ['upper', 'lower']) for (const l of LEVELS) th[`${side}.${l}`].value = t[side] && t[side][l] != null ? String(t[side][l]) : '';
      interval.value = String((pt && pt.interval_s) || (k && k.interval_s) || 60);
      unitOut.textContent = (pt && pt.unit_of_measure) || (k && k.unit) || '';
      rangeOut.textContent = k ? `量程 ${k.min} ~ ${k.max}` : '';
    };
    const unitOut = h('span.mon-unit');
    const rangeOut = h('small.hint');
    kindSel.addEventListener('change', () => fillKind(kinds.find((k) => k.code === kindSel.value), null));
    const errBox = h('div.form-errors', { role: 'alert', hidden: true });
    const pick = h('button.btn.btn-small', { type: 'button', dataset: { action: 'pick-location' } }, '在地图上选取');
    let marker = null;
    const showMarker = () => {
      const ll = [Number(lat.value), Number(lon.value)];
      if (!Number.isFinite(ll[0]) || !Number.isFinite(ll[1]) || (!ll[0] && !ll[1])) return;
      if (!marker) marker = L.circleMarker(ll, { pane: 'alarms', radius: 7, color: '#00c2e0', weight: 3, fill: true, fillColor: '#fff', fillOpacity: 1, interactive: false, className: 'mon-pick-marker' }).addTo(this.app.map);
      else marker.setLatLng(ll);
    };
    const map = this.app.map;
    const onPick = (e) => {
      if (!e.latlng) return;
      lon.value = String(round6(e.latlng.lng));
      lat.value = String(round6(e.latlng.lat));
      showMarker();
      stopPick();
    };
    const stopPick = () => {
      map.off('click', onPick);
      this.app.units.layer.off('click', onPick);
      map.getContainer().classList.remove('picking');
      pick.textContent = '在地图上选取';
      // The unit layer's own click (which opens a unit) is ignored until now (main.js).
      setTimeout(() => (this.picking = false), 0);
    };
    pick.addEventListener('click', () => {
      this.picking = true;
      map.getContainer().classList.add('picking');
      pick.textContent = '请在地图上点击监测点位置…';
      // A click on a unit does not reach the map: the unit layer is listened to as well.
      map.on('click', onPick);
      this.app.units.layer.on('click', onPick);
    });
    for (const el of [lon, lat]) el.addEventListener('change', showMarker);
    const done = () => {
      stopPick();
      if (marker) marker.remove();
      state.form = false;
    };
    const save = async (e) => {
      e.preventDefault();
      errBox.hidden = true;
      const thresholds = {};
      for (const side of ['upper', 'lower']) {
        for (const l of LEVELS) {
          const v = th[`${side}.${l}`].value.trim();
          if (v === '') continue;
          (thresholds[side] = thresholds[side] || {})[l] = Number(v);
        }
      }
      // Only the point's own fields (the view's latest value, level … are not sent back);
      // a new point takes its unit of measure from its kind.
      const body = {
        code: code.value.trim(),
        unit_id: unitId,
        kind: p ? p.kind : kindSel.value,
        location: [Number(lon.value), Number(lat.value)],
        interval_s: Number(interval.value) || 0,
        thresholds,
      };
      if (p) Object.assign(body, { id: p.id, unit_of_measure: p.unit_of_measure, version: p.version });
      try {
        if (p) await this.api.request('PUT', `/monitoring-points/${encodeURIComponent(p.id)}`, { body, headers: etag ? { 'If-Match': etag } : {} });
        else await this.api.request('POST', '/monitoring-points', { body });
        toast(p ? `已保存监测点 ${body.code}` : `已新增监测点 ${body.code}`, 'ok');
        done();
        reload();
      } catch (ex) {
        const fields = ex.fields || [];
        replace(errBox, h('p', ex.status === 412 ? '该监测点已被其他人修改，请关闭后重新编辑。' : fields.length ? `有 ${fields.length} 处需要修改：` : `未能保存：${ex.message}`),
          fields.length ? h('ul', fields.map((x) => h('li', { dataset: { for: String(x.field || x.name || '') } }, `${FIELD[x.field] || fieldLabel(x.field)}：${x.message}`))) : null);
        errBox.hidden = false;
      }
    };
    replace(sec,
      h('h3', p ? `编辑监测点 ${p.code}` : '新增监测点'),
      h('form.mon-point-form', { novalidate: true, onsubmit: save },
        kindErr ? h('p.field-error', kindErr) : null,
        h('label.form-field', h('span', '编号'), code),
        h('label.form-field', h('span', '监测类型'), kindSel),
        h('div.form-field', h('span', '计量单位'), unitOut, rangeOut),
        h('label.form-field', h('span', '上报间隔（秒）'), interval),
        h('div.form-field.mon-loc', h('span', '位置（WGS 84）'),
          h('div.mon-loc-row', h('label', '经度 ', lon), h('label', '纬度 ', lat)),
          h('div.mon-loc-row', pick, h('button.btn.btn-small', { type: 'button', onclick: () => {
            if (!centre) return;
            lon.value = String(round6(centre[0]));
            lat.value = String(round6(centre[1]));
            showMarker();
          } }, '使用单元中心'))),
        h('div.form-field', h('span', '预警阈值（留空为不设）'),
          h('div.mon-th-wrap', h('table.mon-thresholds',
            h('thead', h('tr', h('th', ''), LEVELS.slice().reverse().map((l) => h('th', levelChip(l))))),
            h('tbody', thRows)))),
        errBox,
        h('div.form-actions',
          h('button.btn.btn-primary', { type: 'submit', dataset: { action: 'save-point' } }, '保存'),
          h('button.btn', { type: 'button', onclick: () => { done(); reload(); } }, '取消'))));
    fillKind(kinds.find((k) => k.code === (p ? p.kind : kindSel.value)), p);
    showMarker();
    code.focus();
  }

  async deletePoint(p, reload) {
    try {
      const res = await this.api.request('GET', `/monitoring-points/${encodeURIComponent(p.id)}`);
      await this.api.request('DELETE', `/monitoring-points/${encodeURIComponent(p.id)}`, { headers: res.etag ? { 'If-Match': res.etag } : {} });
      toast(`已删除监测点 ${p.code}`, 'ok');
    } catch (e) {
      toast(`未能删除：${e.message}`, 'error', 6000);
    }
    reload();
  }
}

const FIELD = { code: '编号', kind: '监测类型', unit_id: '所属风险单元', unit_of_measure: '计量单位', location: '位置', interval_s: '上报间隔', thresholds: '预警阈值' };

/** fieldLabel names a field of the point form (thresholds.upper.red → 上限红色预警阈值). */
function fieldLabel(name) {
  const m = /^thresholds\.(upper|lower)\.(\w+)$/.exec(name || '');
  if (m) return `${m[1] === 'upper' ? '上限' : '下限'}${LEVEL_LABEL[m[2]] || m[2]}阈值`;
  return name || '';
}

/** throttle calls fn at most once every ms, the last call of a burst included. */
function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, wait);
  };
}

function parse(s) {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

function round6(x) {
  return Math.round(Number(x) * 1e6) / 1e6;
}

/** unitCentre is [lon, lat] of a unit's point, or the centre of its line or area. */
function unitCentre(f) {
  if (!f.geometry) return null;
  if (f.geometry.type === 'Point') return f.geometry.coordinates.slice(0, 2);
  const b = L.geoJSON(f).getBounds();
  if (!b.isValid()) return null;
  const c = b.getCenter();
  return [c.lng, c.lat];
}

function paintRing(el, level) {
  const g = grade(level);
  el.dataset.level = level;
  el.style.borderColor = g.fill;
  el.style.color = g.fill;
}

/** twoStep is a button that asks for a second click before it acts. */
function twoStep(label, confirm, act) {
  let armed = false;
  let timer;
  const b = h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'delete-point' }, onclick: () => {
    if (!armed) {
      armed = true;
      b.textContent = confirm;
      b.dataset.armed = '1';
      timer = setTimeout(() => {
        armed = false;
        b.textContent = label;
        delete b.dataset.armed;
      }, 4000);
      return;
    }
    clearTimeout(timer);
    b.disabled = true;
    act();
  } }, label);
  return b;
}

/** timeTick writes a tick of the time axis (t in seconds; incr the tick spacing in seconds). */
function timeTick(t, incr) {
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, '0');
  const day = `${d.getMonth() + 1}月${d.getDate()}日`;
  if (incr >= 86400) return day;
  const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
  if (incr < 60) return `${hm}:${p(d.getSeconds())}`;
  return d.getHours() === 0 && d.getMinutes() === 0 ? day : hm;
}

/** thresholdLines are a point's thresholds as [{side, level, value}]. */
export function thresholdLines(t) {
  const out = [];
  for (const side of ['upper', 'lower']) {
    for (const l of LEVELS) {
      const v = t && t[side] && t[side][l];
      if (v != null && Number.isFinite(Number(v))) out.push({ side, level: l, value: Number(v) });
    }
  }
  return out;
}

/** thresholdKey lists a point's thresholds in their colours, under its chart. */
function thresholdKey(p) {
  const lines = thresholdLines(p.thresholds);
  if (!lines.length) return null;
  return h('div.mon-th-key', lines.map((l) => h('span.mon-th-item', { dataset: { side: l.side, level: l.level } },
    h('i', { style: { background: grade(l.level).fill } }), `${l.side === 'upper' ? '≥' : '≤'} ${fmtValue(l.value, p.unit_of_measure)} ${LEVEL_LABEL[l.level]}`)));
}

/** drawThresholds draws dashed horizontal lines at the thresholds, in their level's colour. */
function drawThresholds(u, lines) {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  for (const l of lines) {
    const y = Math.round(u.valToPos(l.value, 'y', true));
    if (y < top || y > top + height) continue;
    ctx.strokeStyle = grade(l.level).fill;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
  }
  ctx.restore();
}
