// 系统管理 (administrators only; the server refuses everyone else): 用户管理, API 令牌,
// 操作日志 and 发布. Loaded on first use. Every table is built with textContent: user names,
// notes and audit details are data, never markup. Passwords and token secrets the server
// generates are shown once, in the panel, and kept nowhere.
import { h, replace, toast, fmtNumber } from '../lib/dom.js';
import { badge } from '../lib/grades.js';
import { ApiError } from '../lib/api.js';
import { ROLES, OUTCOMES, FIELD_LABELS, STATUS, CONTROL_GROUPS, HAZARD_LEVELS, METHODS, HAZARD_LEVEL, HAZARD_SOURCE, HAZARD_STATUS, FIVE, fmtDate, fmtDateTime } from '../lib/labels.js';
import { grade } from '../lib/grades.js';
import { loadPeople, forgetPeople, personLabel, personText } from '../lib/people.js';
import { RegionPicker } from '../lib/regionpicker.js';
import { TARGET_KINDS, SHELTER_KINDS } from '../lib/sites.js';
// The names of audit actions, objects and user fields: one list, shared with the server's
// export of the log (pkg/httpapi/audit_export.go).
import AUDIT_LABELS from '../../../pkg/httpapi/auditlabels.json';
import '../css/admin.css';

const TABS = [
  { code: 'users', label: '用户管理' },
  { code: 'tokens', label: 'API 令牌' },
  { code: 'audit', label: '操作日志' },
  { code: 'publish', label: '发布' },
];

const AUDIT_PAGE = 50;

// Audit actions the server writes, for the filter's suggestions (any prefix works).
const ACTIONS = AUDIT_LABELS.actions;
const ACTION_LABELS = Object.fromEntries(ACTIONS);
const TARGETS = AUDIT_LABELS.targets;
const USER_FIELDS = AUDIT_LABELS.user_fields;

/** actionLabel names an audit action in Chinese ("unit.approve" → 审核通过). */
function actionLabel(code) {
  if (ACTION_LABELS[code]) return ACTION_LABELS[code];
  // A refused request is logged by its method and route: "get /api/v1/units/:id".
  const req = /^(get|head|post|put|patch|delete) (\/\S*)$/i.exec(code || '');
  if (req) return `${{ get: '读取', head: '读取', post: '提交', put: '修改', patch: '修改', delete: '删除' }[req[1].toLowerCase()]}请求 ${req[2]}`;
  const group = ACTIONS.find(([v]) => v.endsWith('.') && code.startsWith(v));
  return group ? `${group[1].replace('（全部）', '')}：${code}` : code;
}

/** targetLabel names an audit row's object: 风险单元 CJ-WHP-0001 名称, 用户 admin, 发布 第 2 期. */
function targetLabel(e, names) {
  const kind = TARGETS[e.target_type] || e.target_type;
  if (e.target_type === 'unit') return `${kind} ${names.get(e.target_id) || `#${e.target_id || ''}`}`;
  if (e.target_type === 'publication') return `${kind} 第 ${e.target_id} 期`;
  if (e.target_type === 'user') return `${kind} ${personLabel(e.target_id)}`;
  // An import job is named by a random id: said in words, the id in the tooltip.
  if (e.target_type === 'import') return h('span', { title: `导入任务 ${e.target_id || ''}` }, 'Excel 导入任务');
  return `${kind} ${e.target_id || ''}`;
}

/** actorLabel names who acted: a person ("姓名（单位）"), or the command line and its operating-system account. */
function actorLabel(e) {
  if (!e.actor) return '（匿名）';
  if (e.actor.startsWith('cli:')) return `命令行（${e.actor.slice(4)}）`;
  const label = personLabel(e.actor);
  return label === e.actor ? label : h('span', { title: e.actor }, label);
}

/**
 * changeRows lists what a write changed, field by field, from its before and after (a unit
 * Feature, a user): 字段、修改前、修改后, the fields named in Chinese where they have a name.
 */
function changeRows(before, after, show2) {
  const props = (x) => (x && x.properties ? { ...x.properties, ...(x.geometry ? { geometry: x.geometry } : {}) } : x || {});
  const b = props(before);
  const a = props(after);
  // Computed from other fields (the current grade is grade; review and re-identification
  // dates follow the assessment): a change shows in the fields it comes from.
  const skip = new Set(['version', 'updated_at', 'created_at', 'grade_label', 'explanation', 'current_grade', 'dynamic_explanation',
    'review_state', 'review_overdue', 'reidentify_due', 'reidentify_overdue', 'level_label', 'status_label', 'source_label', 'actions', 'overdue', 'overdue_days',
    'kind_label', 'region_name', 'footprint_area_m2']);
  const plain = (v) => (v == null || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const show = show2 || plain;
  const rows = [];
  for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (skip.has(k) || JSON.stringify(b[k]) === JSON.stringify(a[k])) continue;
    const label = (show2 && USER_FIELDS[k]) || FIELD_LABELS[k] || UNIT_FIELDS[k] || (AUDIT_LABELS.hazard_fields || {})[k] || SITE_FIELDS[k] || k;
    rows.push(k === 'geometry' ? [label, before ? '（原位置）' : '—', '（新位置）'] : [label, show(b[k], k), show(a[k], k)]);
  }
  return rows;
}

/** SITE_FIELDS name the fields of protective targets and shelters. */
const SITE_FIELDS = { kind: '类型', people: '人数', capacity: '容纳人数', effective_area_m2: '有效避难面积（平方米）', service_radius_m: '服务半径（米）' };

/** UNIT_FIELDS names the unit fields FIELD_LABELS (the entry form's) leaves out. */
const UNIT_FIELDS = AUDIT_LABELS.unit_fields;

/**
 * detailText says an audit row's detail in words: a review's {"comment"} as 审核意见, a
 * retirement's {"reason"} as 注销理由; any other text as it is.
 */
export function detailText(d) {
  // The JSON may follow a note on how the request was made ("API 令牌 #3（名称）；{…}").
  const i = d ? d.indexOf('{') : -1;
  if (i < 0) return d;
  let o;
  try {
    o = JSON.parse(d.slice(i));
  } catch {
    return d;
  }
  if (!o || typeof o !== 'object') return d;
  const names = AUDIT_LABELS.detail_fields;
  const parts = Object.entries(o).filter(([, v]) => v != null && v !== '').map(([k, v]) => `${names[k] || k}：${typeof v === 'object' ? JSON.stringify(v) : v}`);
  return d.slice(0, i) + parts.join('；');
}

/** table builds a <table> from columns [{label, get(row) → text or Node, cls}] and rows. */
function table(cls, columns, rows, { empty = '暂无记录', rowAttrs } = {}) {
  return h(`table.admin-table.${cls}`,
    h('thead', h('tr', columns.map((c) => h('th', { class: c.cls || null }, c.label)))),
    h('tbody', rows.length
      ? rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : null, columns.map((c) => {
        const v = c.get(r);
        const none = v == null || v === '' || (Array.isArray(v) && !v.length);
        // data-label names the cell where a phone shows a row as a card (app.css).
        return h('td', { class: c.cls || null, dataset: none ? { label: c.label, empty: '1' } : { label: c.label } }, none ? '—' : v);
      })))
      : h('tr', h('td.empty', { colspan: columns.length }, empty))));
}

/** secretBox shows a generated password or token once, with a copy button. */
function secretBox(title, secret, note) {
  const code = h('code.secret', secret);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      toast('已复制', 'ok', 1500);
    } catch {
      const r = document.createRange();
      r.selectNodeContents(code);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(r);
    }
  };
  return h('div.secret-box', { role: 'status' },
    h('strong', title),
    h('div.secret-line', code, h('button.btn.btn-small', { type: 'button', onclick: copy }, '复制')),
    h('p.hint', note || '仅显示这一次，关闭后无法再次查看，请立即妥善转交。'));
}

/** errText says what went wrong; labels name the fields in Chinese (USER_FIELDS in the user forms). */
function errText(e, labels = {}) {
  if (!(e instanceof ApiError)) return `网络错误：${e.message}`;
  const f = (e.fields || []).map((x) => `${labels[x.field] || x.field}：${x.message}`).join('；');
  return f ? `${e.message}（${f}）` : e.message;
}

/** twoStep makes a button ask once more ("确认…？") before it acts, without a dialog. */
function twoStep(label, confirmLabel, action, cls = '', name = '') {
  let armed = false;
  let timer;
  const btn = h(`button.btn.btn-small${cls}`, { type: 'button', dataset: name ? { action: name } : null }, label);
  btn.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      btn.textContent = confirmLabel;
      btn.classList.add('armed');
      timer = setTimeout(() => {
        armed = false;
        btn.textContent = label;
        btn.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(timer);
    btn.disabled = true;
    await action();
    btn.disabled = false;
  });
  return btn;
}

export class AdminPanel {
  constructor({ api, session, ctx, getCatalog, onPublished }) {
    Object.assign(this, { api, session, ctx, getCatalog, onPublished });
    this.el = h('section#admin.admin', { hidden: true, role: 'dialog', 'aria-label': '系统管理' });
    document.body.appendChild(this.el);
    this.tab = 'users';
    this.users = [];
    this.auditState = { filters: {}, pages: [null], page: 0 };
    this.onKey = (e) => e.key === 'Escape' && this.close();
  }

  toggle() {
    if (this.el.hidden) this.open();
    else this.close();
  }

  open(tab) {
    if (tab) this.tab = tab;
    this.el.hidden = false;
    document.body.classList.add('admin-open');
    document.addEventListener('keydown', this.onKey);
    this.render();
  }

  close() {
    this.el.hidden = true;
    document.body.classList.remove('admin-open');
    document.removeEventListener('keydown', this.onKey);
  }

  render() {
    this.body = h('div.admin-body');
    replace(this.el,
      h('div.admin-head',
        h('h2', '系统管理'),
        h('nav.admin-tabs', { role: 'tablist' }, TABS.map((t) =>
          h('button', { type: 'button', role: 'tab', class: t.code === this.tab ? 'active' : null, 'aria-selected': String(t.code === this.tab), dataset: { tab: t.code }, onclick: () => this.show(t.code) }, t.label))),
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.close() }, '×')),
      this.body);
    this.el.dataset.tab = this.tab;
    ({ users: () => this.usersTab(), tokens: () => this.tokensTab(), audit: () => this.auditTab(), publish: () => this.publishTab() })[this.tab]();
  }

  show(tab) {
    this.tab = tab;
    this.render();
  }

  // ---- 用户管理 ----

  regionLabel(code) {
    return this.ctx.regionName(code) || code;
  }

  /** regions resolves to the districts, streets and communities, read once while the panel lives. */
  regions() {
    const empty = { type: 'FeatureCollection', features: [] };
    this.regionsP ||= Promise.all(['district', 'street', 'community'].map((l) => this.api.regions(l).catch(() => empty)))
      .then(([district, street, community]) => ({ district, street, community }));
    return this.regionsP;
  }

  /**
   * userForm builds the fields of a user: for a new one (user null) its login and initial
   * password too; for an existing one its current values. Ids start with prefix (u-, ue-).
   * read() returns the user as the API takes it.
   */
  userForm(prefix, user) {
    const cat = this.getCatalog();
    const u = user || {};
    const f = {};
    f.name = user ? null : h(`input#${prefix}name`, { maxlength: 64, autocomplete: 'off', placeholder: '登录名，如 zhangsan' });
    f.displayName = h(`input#${prefix}display-name`, { maxlength: 64, autocomplete: 'off', value: u.display_name || '', placeholder: '如 李明' });
    f.organisation = h(`input#${prefix}organisation`, { maxlength: 100, autocomplete: 'off', value: u.organisation || '', placeholder: '如 澄江市应急管理局' });
    f.phone = h(`input#${prefix}phone`, { type: 'tel', maxlength: 32, autocomplete: 'off', value: u.phone || '', placeholder: '如 0877-6691234' });
    f.role = h(`select#${prefix}role`, Object.entries(ROLES).map(([k, v]) => h('option', { value: k, selected: k === u.role }, v)));
    f.dept = h(`input#${prefix}dept`, { maxlength: 200, list: 'u-dept-list', value: u.department || '', placeholder: '如 住建局' });
    const chosen = new Set(u.categories || []);
    f.cats = h(`div.checks#${prefix}categories`, cat.groups.map((g) => {
      const cs = cat.categories.filter((c) => c.group === g.code);
      return cs.map((c) => h('label.check', { title: c.department || '' }, h('input', { type: 'checkbox', value: c.code, checked: chosen.has(c.code) }), c.label));
    }));
    f.regions = new RegionPicker({ id: `${prefix}regions`, load: () => this.regions(), value: u.role === 'department' ? u.regions || [] : [] });
    f.pass = user ? null : h(`input#${prefix}password`, { type: 'password', maxlength: 256, autocomplete: 'new-password', placeholder: '留空则自动生成' });
    // The department's default categories are ticked on request only: ticking them when the
    // department field lost focus overwrote the box the user was clicking.
    const defaultsOf = () => {
      const d = f.dept.value.trim();
      return d ? cat.categories.filter((c) => c.department === d).map((c) => c.code) : [];
    };
    const defaults = h('button.btn.btn-small', { type: 'button', hidden: true, dataset: { action: 'dept-defaults' },
      onclick: () => {
        const mine = new Set(defaultsOf());
        for (const i of f.cats.querySelectorAll('input')) i.checked = mine.has(i.value);
      } });
    const offerDefaults = () => {
      const n = defaultsOf().length;
      defaults.hidden = n === 0;
      defaults.textContent = `勾选${f.dept.value.trim()}默认监管的 ${n} 个领域`;
    };
    f.dept.addEventListener('input', offerDefaults);
    offerDefaults();
    const scopeRows = h('div.scope-rows',
      h('div.form-field.wide', h('span', '管辖行业领域（行业部门）', ' ', defaults), f.cats),
      h('div.form-field.wide', h('span', '管辖区域（行业部门）：勾选区县即含其下全部街道、社区'), f.regions.el));
    const showScope = () => (scopeRows.hidden = f.role.value !== 'department');
    f.role.addEventListener('change', showScope);
    showScope();
    const el = [
      h('div.form-grid.three',
        f.name ? h('label.form-field', h('span', '用户名（登录名）'), f.name) : null,
        h('label.form-field', h('span', '姓名'), f.displayName),
        h('label.form-field', h('span', '单位'), f.organisation),
        h('label.form-field', h('span', '电话'), f.phone),
        h('label.form-field', h('span', '角色'), f.role),
        h('label.form-field', h('span', '所属部门'), f.dept)),
      scopeRows,
    ];
    const read = () => {
      const dept = f.role.value === 'department';
      const out = {
        display_name: f.displayName.value.trim(),
        organisation: f.organisation.value.trim(),
        phone: f.phone.value.trim(),
        role: f.role.value,
        department: f.dept.value.trim(),
        categories: dept ? [...f.cats.querySelectorAll('input:checked')].map((i) => i.value) : [],
        regions: dept ? f.regions.value : [],
      };
      if (f.name) out.name = f.name.value.trim();
      if (f.pass && f.pass.value) out.password = f.pass.value;
      return out;
    };
    return { f, el, read };
  }

  async usersTab() {
    const body = this.body;
    const cat = this.getCatalog();
    const depts = [...new Set(cat.categories.map((c) => c.department).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'zh-CN'));
    const form = this.userForm('u-', null);
    const result = h('div.admin-result');
    const err = h('div.form-errors', { role: 'alert', hidden: true });
    const create = async (e) => {
      e.preventDefault();
      err.hidden = true;
      replace(result);
      const u = form.read();
      if (!u.name) {
        replace(err, '请填写用户名');
        err.hidden = false;
        return;
      }
      try {
        const r = await this.api.createUser(u);
        replace(result, secretBox(`已创建用户 ${personText(r.user)}（${ROLES[r.user.role] || r.user.role}）。初始密码：`, r.password || u.password,
          r.password ? null : '即您填写的密码。'));
        form.f.name.value = '';
        form.f.pass.value = '';
        forgetPeople();
        this.loadUsers(list);
      } catch (ex) {
        replace(err, `未能创建：${errText(ex, USER_FIELDS)}`);
        err.hidden = false;
      }
    };
    const list = h('div.admin-list', h('p.muted', '正在加载…'));
    this.editOut = h('div.user-edit-out');
    replace(body,
      h('datalist#u-dept-list', depts.map((d) => h('option', { value: d }))),
      h('section.admin-section',
        h('h3', '新增用户'),
        h('form.admin-form#user-form', { novalidate: true, onsubmit: create },
          form.el,
          h('div.form-grid.three',
            h('label.form-field', h('span', '初始密码'), form.f.pass),
            h('div.form-field.form-submit', h('button.btn.btn-primary', { type: 'submit', dataset: { action: 'create-user' } }, '创建用户'))),
          err),
        result),
      this.editOut,
      h('section.admin-section', h('h3', '用户列表'), list));
    this.loadUsers(list);
  }

  /** editUser opens the form that changes u: its name, unit, phone, role, department and scope. */
  editUser(u, list) {
    const form = this.userForm('ue-', u);
    const err = h('div.form-errors', { role: 'alert', hidden: true });
    const close = () => replace(this.editOut);
    const save = async (e) => {
      e.preventDefault();
      err.hidden = true;
      const patch = form.read();
      btn.disabled = true;
      try {
        await this.api.updateUser(u.name, patch);
        toast(`已保存用户 ${u.name}`, 'ok');
        forgetPeople();
        close();
        this.loadUsers(list);
      } catch (ex) {
        replace(err, `未能保存：${errText(ex, USER_FIELDS)}`);
        err.hidden = false;
      } finally {
        btn.disabled = false;
      }
    };
    const btn = h('button.btn.btn-primary', { type: 'submit', dataset: { action: 'save-user' } }, '保存修改');
    const section = h('section.admin-section.user-edit', { dataset: { user: u.name } },
      h('h3', `修改用户 ${u.name}`),
      h('form.admin-form#user-edit-form', { novalidate: true, onsubmit: save },
        form.el,
        h('p.hint', '修改管辖范围后，该用户的下一次请求即按新的范围；修改前后的内容记入操作日志。'),
        h('div.form-actions-inline', btn, ' ', h('button.btn', { type: 'button', dataset: { action: 'cancel-edit' }, onclick: close }, '取消')),
        err));
    replace(this.editOut, section);
    section.scrollIntoView({ block: 'start' });
    form.f.displayName.focus({ preventScroll: true });
  }

  async loadUsers(list) {
    let data;
    try {
      data = await this.api.users();
    } catch (e) {
      replace(list, h('p.error', `无法加载用户：${errText(e)}`));
      return;
    }
    this.users = data.users || [];
    const catLabel = this.ctx.categoryLabel;
    const result = h('div.admin-result');
    const me = this.session.user.name;
    const setDisabled = async (u, disabled) => {
      try {
        await this.api.updateUser(u.name, { disabled });
        toast(`${disabled ? '已停用' : '已启用'}用户 ${u.name}`, 'ok');
        this.loadUsers(list);
      } catch (e) {
        toast(`操作失败：${errText(e)}`, 'error', 6000);
      }
    };
    const reset = async (u) => {
      try {
        const r = await this.api.resetPassword(u.name);
        replace(result, secretBox(`已重置 ${u.name} 的密码，其已登录的会话均已结束。新密码：`, r.password));
      } catch (e) {
        toast(`重置失败：${errText(e)}`, 'error', 6000);
      }
    };
    replace(list,
      result,
      h('div.table-scroll', table('users', [
        { label: '用户名', get: (u) => u.name, cls: 'col-name' },
        { label: '姓名（单位）', get: (u) => (u.display_name ? personText(u) : ''), cls: 'col-person' },
        { label: '电话', get: (u) => u.phone, cls: 'nowrap' },
        { label: '角色', get: (u) => ROLES[u.role] || u.role },
        { label: '所属部门', get: (u) => u.department },
        { label: '管辖行业领域', get: (u) => (u.role === 'department' ? (u.categories || []).map(catLabel).join('、') : '全部'), cls: 'col-wrap' },
        { label: '管辖区域', get: (u) => (u.role === 'department' ? (u.regions || []).map((r) => this.regionLabel(r)).join('、') : '全部'), cls: 'col-wrap' },
        { label: '状态', get: (u) => h(`span.state.${u.disabled ? 'off' : 'on'}`, u.disabled ? '已停用' : '正常') },
        { label: '创建时间', get: (u) => fmtDateTime(u.created_at) },
        {
          label: '操作',
          cls: 'col-actions',
          get: (u) => h('span.row-actions',
            h('button.btn.btn-small', { type: 'button', dataset: { action: 'edit' }, onclick: () => this.editUser(u, list) }, '编辑'),
            u.name === me ? h('span.muted', '（当前用户）') : u.disabled
              ? h('button.btn.btn-small', { type: 'button', dataset: { action: 'enable' }, onclick: () => setDisabled(u, false) }, '启用')
              : twoStep('停用', '确认停用', () => setDisabled(u, true), '.btn-warn', 'disable'),
            twoStep('重置密码', '确认重置', () => reset(u), '', 'reset-password')),
        },
      ], this.users, { rowAttrs: (u) => ({ dataset: { user: u.name }, class: u.disabled ? 'disabled' : null }) })));
  }

  // ---- API 令牌 ----

  async tokensTab() {
    const body = this.body;
    const name = h('input#t-name', { maxlength: 100, placeholder: '用途，如 数据同步脚本' });
    const user = h('select#t-user', h('option', { value: '' }, '正在加载用户…'));
    const scope = h('select#t-scope',
      h('option', { value: '' }, '代表该用户（权限与其相同）'),
      h('option', { value: 'metrics' }, '仅监控（只能读取 /metrics 与 /readyz）'),
      // A device (a sensor gateway, riskmap simulate): it may only write readings, in the scope of its user.
      h('option', { value: 'readings' }, '设备（只写读数）'));
    const result = h('div.admin-result');
    const err = h('div.form-errors', { role: 'alert', hidden: true });
    const list = h('div.admin-list', h('p.muted', '正在加载…'));
    const create = async (e) => {
      e.preventDefault();
      err.hidden = true;
      replace(result);
      if (!name.value.trim() || (!user.value && scope.value !== 'metrics')) {
        replace(err, '请填写名称并选择令牌代表的用户');
        err.hidden = false;
        return;
      }
      try {
        const r = await this.api.createToken(name.value.trim(), user.value, scope.value);
        replace(result, r.token.scope === 'metrics'
          ? secretBox(`已创建监控令牌“${r.token.name}”。令牌：`, r.secret,
            '仅显示这一次。Prometheus 以 HTTP 头 Authorization: Bearer <令牌> 抓取 /metrics；此令牌不能读取或修改任何其他数据。')
          : r.token.scope === 'readings'
            ? secretBox(`已创建设备令牌“${r.token.name}”（代表 ${r.token.user}）。令牌：`, r.secret,
              '仅显示这一次。设备以 HTTP 头 Authorization: Bearer <令牌> 向 POST /api/v1/readings 或 SensorThings 接口写入读数，只能写入所代表用户管辖范围内监测点的读数，不能读取或修改其他数据。')
            : secretBox(`已创建令牌“${r.token.name}”（代表 ${r.token.user}）。令牌：`, r.secret,
            '仅显示这一次。脚本以 HTTP 头 Authorization: Bearer <令牌> 调用接口，权限与所代表的用户相同。'));
        name.value = '';
        this.loadTokens(list);
      } catch (ex) {
        replace(err, `未能创建：${errText(ex)}`);
        err.hidden = false;
      }
    };
    replace(body,
      h('section.admin-section',
        h('h3', '新建 API 令牌'),
        h('form.admin-form#token-form', { novalidate: true, onsubmit: create },
          h('div.form-grid.three',
            h('label.form-field', h('span', '名称'), name),
            h('label.form-field', h('span', '代表用户'), user),
            h('label.form-field', h('span', '权限范围'), scope),
            h('div.form-field.form-submit', h('button.btn.btn-primary', { type: 'submit', dataset: { action: 'create-token' } }, '创建令牌'))),
          err),
        result),
      h('section.admin-section', h('h3', '令牌列表'), list));
    this.api.users().then((d) => {
      const us = (d.users || []).filter((u) => !u.disabled);
      replace(user, h('option', { value: '' }, '请选择用户'), us.map((u) => h('option', { value: u.name },
        `${u.display_name ? `${personText(u)} · ` : ''}${u.name}（${ROLES[u.role] || u.role}）`)));
    }).catch((e) => replace(user, h('option', { value: '' }, `无法加载用户：${e.message}`)));
    this.loadTokens(list);
  }

  async loadTokens(list) {
    let data;
    try {
      [data] = await Promise.all([this.api.tokens(), loadPeople()]);
    } catch (e) {
      replace(list, h('p.error', `无法加载令牌：${errText(e)}`));
      return;
    }
    const revoke = async (t) => {
      try {
        await this.api.revokeToken(t.id);
        toast(`已吊销令牌“${t.name}”`, 'ok');
        this.loadTokens(list);
      } catch (e) {
        toast(`吊销失败：${errText(e)}`, 'error', 6000);
      }
    };
    replace(list, table('tokens', [
      { label: '名称', get: (t) => t.name, cls: 'col-name' },
      { label: '代表用户', get: (t) => personLabel(t.user) },
      { label: '权限范围', get: (t) => (t.scope === 'metrics' ? '仅监控' : t.scope === 'readings' ? '设备（只写读数）' : '同所代表用户') },
      { label: '创建人', get: (t) => personLabel(t.created_by) },
      { label: '创建时间', get: (t) => fmtDateTime(t.created_at) },
      { label: '最近使用', get: (t) => (t.last_used_at ? fmtDateTime(t.last_used_at) : '从未使用') },
      { label: '状态', get: (t) => h(`span.state.${t.revoked_at ? 'off' : 'on'}`, t.revoked_at ? `已吊销 ${fmtDateTime(t.revoked_at)}` : '有效') },
      { label: '操作', cls: 'col-actions', get: (t) => (t.revoked_at ? '' : twoStep('吊销', '确认吊销', () => revoke(t), '.btn-warn', 'revoke')) },
    ], data.tokens || [], { rowAttrs: (t) => ({ dataset: { token: String(t.id) }, class: t.revoked_at ? 'disabled' : null }) }));
  }

  // ---- 操作日志 ----

  auditTab() {
    const f = this.auditState.filters;
    const actor = h('input#a-actor', { maxlength: 64, value: f.actor || '', placeholder: '用户名' });
    const action = h('select#a-action', h('option', { value: '' }, '全部操作'), ACTIONS.map(([v, l]) => h('option', { value: v, selected: v === f.action }, l)));
    const outcome = h('select#a-outcome', h('option', { value: '' }, '全部'), Object.entries(OUTCOMES).map(([k, v]) => h('option', { value: k, selected: f.outcome === k }, v)));
    const since = h('input#a-since', { type: 'datetime-local', value: f.sinceLocal || '' });
    const until = h('input#a-until', { type: 'datetime-local', value: f.untilLocal || '' });
    const out = h('div.audit-out');
    const search = (e) => {
      if (e) e.preventDefault();
      const iso = (v) => (v ? new Date(v).toISOString() : '');
      this.auditState = {
        filters: { actor: actor.value.trim(), action: action.value.trim(), outcome: outcome.value, since: iso(since.value), until: iso(until.value), sinceLocal: since.value, untilLocal: until.value },
        pages: [null],
        page: 0,
      };
      this.loadAudit(out);
    };
    const clear = () => {
      actor.value = action.value = since.value = until.value = '';
      outcome.value = '';
      search();
    };
    // The export takes the filters as they stand in the form (and shows the same rows).
    const exportAs = (ext) => {
      search();
      const { actor: a, action: ac, outcome: o, since: s, until: u } = this.auditState.filters;
      const q = new URLSearchParams(Object.entries({ actor: a, action: ac, outcome: o, since: s, until: u }).filter(([, v]) => v));
      const link = h('a', { href: `/api/v1/audit.${ext}${String(q) ? `?${q}` : ''}`, download: '', hidden: true });
      document.body.appendChild(link);
      link.click();
      link.remove();
      toast(`正在导出操作日志（${ext === 'csv' ? 'CSV' : 'Excel'}）…`, 'ok', 2500);
    };
    replace(this.body,
      h('form.admin-form.audit-filters#audit-form', { novalidate: true, onsubmit: search },
        h('label.form-field', h('span', '操作人'), actor),
        h('label.form-field', h('span', '操作'), action),
        h('label.form-field', h('span', '结果'), outcome),
        h('label.form-field', h('span', '起始时间'), since),
        h('label.form-field', h('span', '截止时间'), until),
        h('div.form-field.form-submit',
          h('button.btn.btn-primary', { type: 'submit', dataset: { action: 'audit-search' } }, '查询'),
          h('button.btn', { type: 'button', onclick: clear }, '清除')),
        h('div.form-field.form-submit.audit-export',
          h('button.btn', { type: 'button', title: '按当前筛选条件导出全部记录', dataset: { action: 'audit-export-csv' }, onclick: () => exportAs('csv') }, '导出 CSV'),
          h('button.btn', { type: 'button', title: '按当前筛选条件导出全部记录', dataset: { action: 'audit-export-xlsx' }, onclick: () => exportAs('xlsx') }, '导出 Excel'))),
      out);
    this.loadAudit(out);
  }

  async loadAudit(out) {
    const a = this.auditState;
    const { actor, action, outcome, since, until } = a.filters;
    replace(out, h('p.muted', '正在加载…'));
    let data;
    try {
      data = await this.api.audit({ actor, action, outcome, since, until, before: a.pages[a.page], limit: AUDIT_PAGE });
    } catch (e) {
      replace(out, h('p.error', `无法加载操作日志：${errText(e)}`));
      return;
    }
    const entries = data.entries || [];
    a.next = data.next_before ?? null;
    const detail = (e) => {
      const parts = [];
      const said = detailText(e.detail);
      if (said) parts.push(h('div', said));
      if (e.before != null || e.after != null) {
        const rows = e.target_type === 'user' ? changeRows(e.before, e.after, userValue) : changeRows(e.before, e.after, unitValue);
        if (rows.length) {
          parts.push(h('details.audit-json',
            h('summary', `修改前后（${rows.length} 项）`),
            h('table.audit-changes', h('thead', h('tr', h('th', '字段'), h('th', '修改前'), h('th', '修改后'))),
              h('tbody', rows.map(([k, x, y]) => h('tr', h('td', k), h('td', x), h('td', y)))))));
        }
      }
      return parts.length ? parts : '';
    };
    // A row may stand for many refusals of one address on one route within a minute
    // (count > 1): it shows how many, and until when.
    const auditWhen = (e) => {
      if (!(e.count > 1)) return fmtDateTime(e.at, true);
      return [fmtDateTime(e.at, true), ' ', h('span.audit-count', { title: `1 分钟内重复 ${e.count} 次，最后一次 ${fmtDateTime(e.last_at, true)}` }, `×${e.count}`)];
    };
    // A user's fields in Chinese: categories and regions by name, roles, yes or no.
    const userValue = (v, k) => {
      if (k === 'categories') return (v || []).length ? v.map(this.ctx.categoryLabel).join('、') : '—';
      if (k === 'regions') return (v || []).length ? v.map((r) => this.regionLabel(r)).join('、') : '—';
      if (k === 'role') return ROLES[v] || v || '—';
      if (k === 'disabled') return v ? '是' : '否';
      return v == null || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    };
    // A unit's fields in Chinese: categories, regions, grades and statuses by name, the
    // assessment and the control measures in words, days as days.
    const unitValue = (v, k) => {
      if (v == null || v === '' || (Array.isArray(v) && !v.length)) return '—';
      switch (k) {
        case 'category': return this.ctx.categoryLabel(v);
        case 'region_code': return this.regionLabel(v);
        case 'grade': case 'inherent_grade': case 'current_grade': return grade(v).label || v;
        case 'identified_at': case 'reidentify_due': case 'found_at': case 'deadline': return fmtDate(v);
        // A hidden danger's condition names its code and level; a conflict's the protective
        // target inside the unit's influence range (its kind as level).
        case 'conditions': return v.map((c) => (c.source === 'conflict'
          ? `影响范围内有${TARGET_KINDS[c.level] || c.level || '防护目标'}「${c.ref || ''}」${c.detail ? `（${c.detail}）` : ''}`
          : `${c.ref || ''}（${HAZARD_LEVEL[c.level] || c.level || ''}）`)).join('、');
        case 'level': return HAZARD_LEVEL[v] || v;
        case 'kind': return TARGET_KINDS[v] || SHELTER_KINDS[v] || v;
        case 'source': return HAZARD_SOURCE[v] || v;
        case 'five': return FIVE.map((x) => `${x.label}：${v[x.code] || '—'}`).join('；');
        case 'status': return STATUS[v] || HAZARD_STATUS[v] || v;
        case 'supervision': return v.by_label || (v.by === 'city' ? '市级挂牌督办' : '区级挂牌督办');
        case 'extension': return `申请延期至 ${fmtDate(v.deadline)}${v.reason ? `（${v.reason}）` : ''}${v.decision === 'approved' ? '，已批准' : v.decision === 'rejected' ? '，已驳回' : ''}`;
        case 'accident_types': return v.map((x) => (this.ctx.accidentLabel ? this.ctx.accidentLabel(x) : x)).join('、');
        case 'assessed_at': case 'next_review_due': return fmtDate(v);
        case 'major_hazard_source': return v.level ? `${HAZARD_LEVELS[v.level] || v.level}重大危险源` : '—';
        case 'assessment': {
          const m = METHODS[v.method] || v.method || '';
          const inputs = v.method === 'LEC' ? `L = ${v.l ?? '—'}，E = ${v.e ?? '—'}，C = ${v.c ?? '—'}` : `L = ${v.likelihood ?? '—'}，S = ${v.severity ?? '—'}`;
          return `${m}：${inputs}`;
        }
        case 'controls':
          return CONTROL_GROUPS.filter((g) => (v[g.code] || []).length).map((g) => `${g.label}：${v[g.code].join('、')}`).join('；') || '—';
      }
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    };
    // Units are named by their code and name, each read once while the panel is open;
    // people by 姓名（单位）.
    const names = (this.unitNames ||= new Map());
    await loadPeople();
    await Promise.all([...new Set(entries.filter((e) => e.target_type === 'unit' && e.target_id && !names.has(e.target_id)).map((e) => e.target_id))].map(async (id) => {
      try {
        const f = (await this.api.unit(id)).data;
        names.set(id, `${f.properties.code} ${f.properties.name}`);
      } catch {
        /* retired or gone: the id stays */
      }
    }));
    replace(out,
      h('div.audit-status',
        h('span', entries.length ? `第 ${a.page + 1} 页 · 本页 ${entries.length} 条（最新的在前）` : '没有符合条件的记录'),
        h('span.pager-buttons',
          h('button.btn.btn-small', { type: 'button', disabled: a.page === 0, dataset: { action: 'audit-newer' }, onclick: () => { a.page--; this.loadAudit(out); } }, '上一页（较新）'),
          h('button.btn.btn-small', { type: 'button', disabled: a.next == null, dataset: { action: 'audit-older' }, onclick: () => { a.pages[a.page + 1] = a.next; a.page++; this.loadAudit(out); } }, '下一页（较早）'))),
      h('div.table-scroll', table('audit', [
        { label: '时间', get: auditWhen, cls: 'nowrap' },
        { label: '操作人', get: actorLabel },
        { label: '角色', get: (e) => ROLES[e.role] || (e.role === 'cli' ? '命令行' : e.role) },
        { label: '操作', get: (e) => h('span', { title: e.action }, actionLabel(e.action)) },
        { label: '结果', get: (e) => h(`span.outcome.outcome-${e.outcome}`, OUTCOMES[e.outcome] || e.outcome) },
        { label: '状态码', get: (e) => String(e.status ?? ''), cls: 'num' },
        { label: '请求', get: (e) => `${e.method || ''} ${e.path || ''}`, cls: 'col-path' },
        { label: '对象', get: (e) => (e.target_type ? targetLabel(e, names) : '') },
        { label: '说明', get: detail, cls: 'col-wrap' },
        { label: '来源地址', get: (e) => e.client_addr },
      ], entries, { rowAttrs: (e) => ({ dataset: { id: String(e.id), action: e.action, outcome: e.outcome, count: String(e.count ?? 1) } }) })));
  }

  // ---- 发布 ----

  async publishTab() {
    const note = h('textarea#p-note', { rows: 2, maxlength: 500, placeholder: '发布说明，如 2026 年第四季度风险评估结果' });
    const result = h('div.admin-result');
    const err = h('div.form-errors', { role: 'alert', hidden: true });
    const list = h('div.admin-list', h('p.muted', '正在加载…'));
    const diffOut = h('div.diff-out');
    const previewOut = h('div.diff-out.preview-out');
    const from = h('select#p-from');
    const to = h('select#p-to');
    // Publishing changes the public map at once: the admin sees what will change first,
    // then confirms. A preview older than the register is not a preview: any failure, or a
    // publication, asks for a new one.
    const preview = async () => {
      err.hidden = true;
      btn.disabled = true;
      replace(previewOut, h('p.muted', '正在比较当前已审核的单元与最新一期…'));
      try {
        this.renderDiff(previewOut, await this.api.publicationPreview());
        btn.disabled = false;
      } catch (ex) {
        replace(previewOut, h('p.error', `无法预览：${errText(ex)}`));
      }
    };
    const submit = async (e) => {
      e.preventDefault();
      if (btn.disabled) return;
      err.hidden = true;
      btn.disabled = true;
      try {
        const p = await this.api.publish(note.value.trim());
        replace(result, h('div.notice-ok', { role: 'status' }, `已发布第 ${p.number} 期：${fmtNumber(p.unit_count)} 个已审核的风险单元，公众版即刻更新。`));
        note.value = '';
        replace(previewOut);
        this.onPublished && this.onPublished(p);
        await this.loadPublications(list, from, to);
        if (p.number > 1) this.loadDiff(diffOut, p.number - 1, p.number);
      } catch (ex) {
        replace(err, `未能发布：${errText(ex)}`);
        err.hidden = false;
        replace(previewOut);
      }
    };
    const previewBtn = h('button.btn', { type: 'button', dataset: { action: 'preview' }, onclick: preview }, '预览本次发布的变化');
    const btn = h('button.btn.btn-primary', { type: 'submit', disabled: true, title: '请先预览', dataset: { action: 'publish' } }, '确认发布');
    replace(this.body,
      h('section.admin-section',
        h('h3', '发布新一期'),
        h('p.hint', '发布把当前全部“已审核”的风险单元及由其计算的区域等级固定为新的一期，公众版随即显示这一期。草稿和待审核的修改不会发布。请先预览与最新一期相比的变化，再确认发布。'),
        h('form.admin-form#publish-form', { novalidate: true, onsubmit: submit },
          h('label.form-field.wide', h('span', '发布说明'), note),
          h('div.form-actions-inline', previewBtn, ' ', btn),
          err),
        previewOut,
        result),
      h('section.admin-section', h('h3', '历次发布'), list),
      h('section.admin-section',
        h('h3', '比较两期'),
        h('div.diff-form',
          h('label', '从 ', from),
          h('label', ' 到 ', to),
          h('button.btn.btn-small', { type: 'button', dataset: { action: 'diff' }, onclick: () => this.loadDiff(diffOut, from.value, to.value) }, '比较')),
        diffOut));
    const pubs = await this.loadPublications(list, from, to);
    if (pubs && pubs.length >= 2) this.loadDiff(diffOut, pubs[1].number, pubs[0].number);
  }

  async loadPublications(list, from, to) {
    let data;
    try {
      [data] = await Promise.all([this.api.publications(), loadPeople()]);
    } catch (e) {
      replace(list, h('p.error', `无法加载发布记录：${errText(e)}`));
      return null;
    }
    const pubs = data.publications || [];
    replace(list, table('publications', [
      { label: '期号', get: (p) => `第 ${p.number} 期`, cls: 'nowrap' },
      { label: '发布时间', get: (p) => fmtDateTime(p.created_at), cls: 'nowrap' },
      { label: '发布人', get: (p) => personLabel(p.created_by) },
      { label: '单元数', get: (p) => fmtNumber(p.unit_count), cls: 'num' },
      { label: '说明', get: (p) => p.note, cls: 'col-wrap' },
    ], pubs, { empty: '尚未发布', rowAttrs: (p) => ({ dataset: { number: String(p.number) } }) }));
    const opts = (sel) => pubs.map((p) => h('option', { value: String(p.number) }, `第 ${p.number} 期（${fmtDateTime(p.created_at)}）`));
    replace(from, opts());
    replace(to, opts());
    if (pubs.length >= 2) from.value = String(pubs[1].number);
    if (pubs.length) to.value = String(pubs[0].number);
    return pubs;
  }

  async loadDiff(out, a, b) {
    if (!a || !b) return;
    replace(out, h('p.muted', '正在比较…'));
    let d;
    try {
      d = await this.api.publicationDiff(a, b);
    } catch (e) {
      replace(out, h('p.error', `无法比较：${errText(e)}`));
      return;
    }
    this.renderDiff(out, d);
  }

  /** renderDiff shows a diff of two publications, or of the latest one and now (to 0, a preview). */
  renderDiff(out, d) {
    const cat = this.ctx.categoryLabel;
    const region = (code) => this.regionLabel(code);
    const unitCols = (gradeCol) => [
      { label: '编号', get: (u) => u.code, cls: 'nowrap' },
      { label: '名称', get: (u) => u.name, cls: 'col-name' },
      { label: '行业领域', get: (u) => cat(u.category) },
      { label: '所属区域', get: (u) => region(u.region_code) },
      gradeCol,
    ];
    const change = (x, y) => h('span.grade-change', x ? badge(x, true) : '—', ' → ', y ? badge(y, true) : '—');
    const added = d.added || [];
    const removed = d.removed || [];
    const changed = d.changed || [];
    const regions = d.regions_changed || [];
    const part = (key, title, n, content) => h(`section.diff-part`, { dataset: { part: key } }, h('h4', `${title}（${n}）`), content);
    replace(out,
      h('p.diff-summary', `${d.from ? `第 ${d.from} 期` : '尚未发布'} → ${d.to ? `第 ${d.to} 期` : '本次发布'}：新增 ${added.length}，移除 ${removed.length}，等级变化 ${changed.length}，区域等级变化 ${regions.length}`),
      part('added', '新增', added.length, table('diff-units', unitCols({ label: '等级', get: (u) => badge(u.grade, true) }), added, { empty: '无' })),
      part('removed', '移除', removed.length, table('diff-units', unitCols({ label: '等级', get: (u) => badge(u.grade, true) }), removed, { empty: '无' })),
      part('changed', '等级变化', changed.length, table('diff-units', unitCols({ label: '等级变化', get: (u) => change(u.from_grade, u.to_grade) }), changed, { empty: '无', rowAttrs: (u) => ({ dataset: { code: u.code, from: u.from_grade, to: u.to_grade } }) })),
      part('regions', '区域等级变化', regions.length, table('diff-regions', [
        { label: '区划代码', get: (r) => r.code, cls: 'nowrap' },
        { label: '名称', get: (r) => r.name },
        { label: '等级变化', get: (r) => change(r.from_grade, r.to_grade) },
      ], regions, { empty: '无' })));
  }
}
