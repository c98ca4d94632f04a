// 隐患排查治理: the hidden dangers (隐患台账) with their closed loop (登记 → 上报 → 整改 →
// 验收 → 销号), the supervision view (督办), the citizens' reports (举报) and the charts
// (统计图表). Loaded on first use; a full-screen panel like 系统管理. Every value from the
// server goes in as text (dom.js's h()), never as markup: a report can say anything.
import L from '../lib/leaflet.js';
import { h, replace, toast, fmtNumber, debounce } from '../lib/dom.js';
import { badge, grade } from '../lib/grades.js';
import { query } from '../lib/api.js';
import { menu, liveLink } from './documents.js';
import {
  HAZARD_STATUS, HAZARD_LEVEL, HAZARD_SOURCE, SUPERVISION_BY, REPORT_STATUS, FIVE, HAZARD_FIELDS,
  fmtDate, fmtDateTime, today,
} from '../lib/labels.js';
import { personNode } from '../lib/people.js';
import '../css/hazards.css';

const TABS = [
  { code: 'list', label: '隐患台账' },
  { code: 'supervision', label: '督办' },
  { code: 'reports', label: '举报受理' },
  { code: 'charts', label: '统计图表' },
];

const OPEN = ['registered', 'reported', 'rectifying', 'accepted'];

/** TRANSITION_LABELS name the button of each transition (from the status it leaves). */
function transitionLabel(from, to) {
  if (to === 'reported') return '上报';
  if (to === 'rectifying') return from === 'accepted' ? '验收不通过' : '开始整改';
  if (to === 'accepted') return '整改完成，申请验收';
  if (to === 'closed') return '复查销号';
  return HAZARD_STATUS[to] || to;
}

/** levelBadge is a hidden danger's level as a small label (重大隐患 in red). */
export function levelBadge(level) {
  return h('span.hz-level', { dataset: { level: level || '' } }, HAZARD_LEVEL[level] || level || '—');
}

/** statusBadge is a hidden danger's status as a small label. */
export function hazardStatusBadge(p) {
  return h('span.hz-status', { dataset: { status: p.status || '' } }, p.status_label || HAZARD_STATUS[p.status] || p.status || '—');
}

/** deadlineNode writes the deadline, and how many days overdue. */
function deadlineNode(p) {
  if (p.overdue) return h('span.hz-overdue', fmtDate(p.deadline), h('small', ` 逾期 ${fmtNumber(p.overdue_days || 0)} 天`));
  return fmtDate(p.deadline);
}

function kv(label, ...value) {
  const v = value.flat().filter((x) => x != null && x !== '');
  return h('div.kv', h('dt', label), h('dd', v.length ? v : '—'));
}

/** cell is a table cell named for the phone's cards (data-label). */
function cell(label, value, cls) {
  const empty = value == null || value === '' || (Array.isArray(value) && !value.length);
  return h('td', { class: cls || null, dataset: empty ? { label, empty: '1' } : { label } }, empty ? '' : value);
}

/** fieldErrors puts the server's field problems next to the fields of form (data-field). */
function fieldErrors(form, err, summary) {
  for (const el of form.querySelectorAll('.field-error[data-for]')) el.textContent = '';
  const left = [];
  for (const f of err.fields || []) {
    const name = String(f.field || f.name || '');
    const box = form.querySelector(`.field-error[data-for="${CSS.escape(name)}"]`) || form.querySelector(`.field-error[data-for="${CSS.escape(name.split('.')[0])}"]`);
    if (box) box.textContent = f.message || '';
    else left.push(`${HAZARD_FIELDS[name] || name}：${f.message}`);
  }
  summary.textContent = (err.fields || []).length ? `有 ${err.fields.length} 处需要修改，见标红的字段。${left.join('；')}` : err.message;
}

/** field is a labelled form field with its error line (data-for is the API's field name). */
function field(label, name, input, { req = false, wide = false, hint = null } = {}) {
  if (!input.id) input.id = `hz-${name.replace(/\W/g, '-')}`;
  return h(`div.form-field${wide ? '.wide' : ''}`, { dataset: { field: name } },
    h('label', { for: input.id }, label, req ? h('span.req', ' *') : null),
    input,
    hint ? h('small.hint', hint) : null,
    h('div.field-error', { role: 'alert', dataset: { for: name } }));
}

export class HazardPanel {
  /**
   * ctx: the application's lookups (categoryLabel, regionName); regionsP: the regions;
   * onChanged(): a hidden danger changed (the map and counts follow); onUnit(id): show a
   * unit on the map.
   */
  constructor({ api, session, ctx, getCatalog, regionsP, onChanged, onUnit, supervisionExtra }) {
    // supervisionExtra(): a further card for the supervision view (监测报警统计, monitoring.js).
    Object.assign(this, { api, session, ctx, getCatalog, regionsP, onChanged, onUnit, supervisionExtra });
    this.el = h('section#hazards.admin.hazards', { hidden: true, role: 'dialog', 'aria-label': '隐患排查治理' });
    document.body.appendChild(this.el);
    this.tab = 'list';
    this.filters = { status: 'open', level: '', overdue: false, due_soon: false, supervised: false, region: '', department: '', q: '' };
    this.reportStatus = 'received';
    this.onKey = (e) => {
      if (e.key === 'Escape' && !e.target.closest('input, textarea, select')) this.close();
    };
  }

  get user() {
    return this.session.user;
  }

  toggle() {
    if (this.el.hidden) this.open();
    else this.close();
  }

  open(tab) {
    if (tab) this.tab = tab;
    this.el.hidden = false;
    document.body.classList.add('hazards-open');
    document.addEventListener('keydown', this.onKey);
    this.render();
  }

  close() {
    this.el.hidden = true;
    document.body.classList.remove('hazards-open');
    document.removeEventListener('keydown', this.onKey);
    if (this.chart) this.chart.dispose();
    this.chart = null;
  }

  frame() {
    this.body = h('div.admin-body.hz-body');
    replace(this.el,
      h('div.admin-head',
        h('h2', '隐患排查治理'),
        h('nav.admin-tabs', { role: 'tablist' }, TABS.map((t) =>
          h('button', { type: 'button', role: 'tab', class: t.code === this.tab ? 'active' : null, 'aria-selected': String(t.code === this.tab), dataset: { tab: t.code }, onclick: () => this.show(t.code) }, t.label))),
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.close() }, '×')),
      this.body);
    this.el.dataset.tab = this.tab;
    this.el.dataset.view = '';
  }

  render() {
    this.frame();
    ({ list: () => this.listTab(), supervision: () => this.supervisionTab(), reports: () => this.reportsTab(), charts: () => this.chartsTab() })[this.tab]();
  }

  show(tab) {
    this.tab = tab;
    this.render();
  }

  // ---- 隐患台账 ----

  departments() {
    const cat = this.getCatalog();
    const u = this.user;
    const cats = u.role === 'department' ? cat.categories.filter((c) => (u.categories || []).includes(c.code)) : cat.categories;
    return [...new Set(cats.map((c) => c.department).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'zh-CN'));
  }

  listParams() {
    const f = this.filters;
    return {
      status: f.status === 'open' ? OPEN : f.status || null,
      level: f.level || null,
      overdue: f.overdue ? 'true' : null,
      due_within: f.due_soon ? 7 : null,
      supervised: f.supervised ? 'true' : null,
      region: f.region || null,
      department: f.department || null,
      q: f.q || null,
    };
  }

  async listTab() {
    const f = this.filters;
    const set = (k) => (e) => {
      f[k] = e.target.type === 'checkbox' ? e.target.checked : e.target.value;
      this.loadList();
    };
    const regionSel = h('select#hz-f-region', { 'aria-label': '所属区域', onchange: set('region') }, h('option', { value: '' }, '全部区域'));
    this.regionsP.then((r) => {
      const u = this.user;
      const visible = (code) => u.role !== 'department' || (u.regions || []).some((x) => code.startsWith(x) || x.startsWith(code));
      for (const d of r.district.features.filter((x) => visible(x.properties.code))) {
        regionSel.appendChild(h('option', { value: d.properties.code, selected: f.region === d.properties.code }, d.properties.name));
        for (const s of r.street.features.filter((x) => x.properties.code.startsWith(d.properties.code) && visible(x.properties.code))) {
          regionSel.appendChild(h('option', { value: s.properties.code, selected: f.region === s.properties.code }, `　${s.properties.name}`));
        }
      }
    });
    const search = h('input#hz-f-q', { type: 'search', placeholder: '编号、单元名称或描述', value: f.q, 'aria-label': '搜索隐患' });
    search.addEventListener('input', debounce(() => {
      f.q = search.value.trim();
      this.loadList();
    }, 300));
    this.listOut = h('div.admin-list.hz-list');
    this.listStatus = h('div.hz-list-status', '正在加载…');
    this.csvLink = h('a.btn.btn-small', { href: '/api/v1/hazards.csv', download: '', dataset: { action: 'hazards-csv' } }, '导出 CSV');
    append(this.body,
      h('section.admin-section.hz-filters',
        h('div.hz-filter-row',
          h('label.form-field', h('span', '状态'), h('select#hz-f-status', { onchange: set('status') },
            h('option', { value: 'open', selected: f.status === 'open' }, '未销号'),
            h('option', { value: '', selected: f.status === '' }, '全部状态'),
            Object.entries(HAZARD_STATUS).map(([k, v]) => h('option', { value: k, selected: f.status === k }, v)))),
          h('label.form-field', h('span', '等级'), h('select#hz-f-level', { onchange: set('level') },
            h('option', { value: '' }, '全部等级'),
            Object.entries(HAZARD_LEVEL).map(([k, v]) => h('option', { value: k, selected: f.level === k }, v)))),
          h('label.form-field', h('span', '区域'), regionSel),
          h('label.form-field', h('span', '监管部门'), h('select#hz-f-department', { onchange: set('department') },
            h('option', { value: '' }, '全部部门'),
            this.departments().map((d) => h('option', { value: d, selected: f.department === d }, d)))),
          h('label.form-field.hz-search', h('span', '搜索'), search)),
        h('div.hz-filter-row',
          h('label.check', h('input#hz-f-overdue', { type: 'checkbox', checked: f.overdue, onchange: set('overdue') }), '逾期'),
          h('label.check', h('input#hz-f-due-soon', { type: 'checkbox', checked: f.due_soon, onchange: set('due_soon') }), '临期（7 天内到期）'),
          h('label.check', h('input#hz-f-supervised', { type: 'checkbox', checked: f.supervised, onchange: set('supervised') }), '挂牌督办'),
          h('span.hz-spacer'),
          this.listStatus,
          this.csvLink,
          // The 隐患清单 as Excel with the same filters, and the 双清单 (both lists, one workbook).
          menu('导出 Excel', [
            liveLink('a.menu-item', () => `/api/v1/hazards.xlsx?${query(this.listParams())}`, '隐患清单（.xlsx）', { download: '', role: 'menuitem', dataset: { action: 'hazards-xlsx' }, title: '当前筛选条件下的隐患' }),
            h('a.menu-item', { href: '/api/v1/units.xlsx?with=hazards', download: '', role: 'menuitem', dataset: { action: 'xlsx-dual' }, title: '全部风险单元与隐患，在同一个工作簿中' }, '双清单（风险清单 + 隐患清单）'),
          ], { dataset: { menu: 'hazards-export' } }),
          h('button.btn.btn-small.btn-primary', { type: 'button', dataset: { action: 'new-hazard' }, onclick: () => this.newHazard(null) }, '＋ 登记隐患'))),
      h('section.admin-section', this.listOut));
    this.loadList();
  }

  async loadList(more = false) {
    const seq = (this.listSeq = (this.listSeq || 0) + 1);
    const params = this.listParams();
    this.csvLink.href = `/api/v1/hazards.csv?${query(params)}`;
    let fc;
    try {
      fc = more && this.listNext ? await this.api.next(this.listNext) : await this.api.hazards({ ...params, limit: 200 });
    } catch (e) {
      if (seq === this.listSeq) this.listStatus.textContent = `加载失败：${e.message}`;
      return;
    }
    if (seq !== this.listSeq) return;
    this.listRows = more ? (this.listRows || []).concat(fc.features) : fc.features;
    this.listNext = fc.next || null;
    const n = fc.numberMatched ?? this.listRows.length;
    this.listStatus.textContent = `共 ${fmtNumber(n)} 条隐患`;
    this.listStatus.dataset.count = String(n);
    replace(this.listOut, this.hazardTable(this.listRows, '没有符合条件的隐患'),
      this.listNext ? h('button.btn.btn-small', { type: 'button', onclick: () => this.loadList(true) }, '加载更多') : null);
  }

  /** hazardTable lists hidden dangers (features or views); a row opens its details. */
  hazardTable(rows, empty) {
    const props = rows.map((r) => (r.properties ? { ...r.properties, id: r.properties.id ?? r.id } : r));
    const region = (code) => {
      const full = this.ctx.regionName(code);
      const m = /^(.*?)（/.exec(full);
      return m ? m[1].split(' / ').pop() : full;
    };
    return h('table.admin-table.hz-table',
      h('thead', h('tr', ['编号', '隐患描述', '风险单元', '等级', '状态', '整改期限', '督办', '监管部门', '所属区域'].map((t) => h('th', t)))),
      h('tbody', props.length ? props.map((p) =>
        h('tr', { dataset: { id: p.id, code: p.code, status: p.status }, class: p.overdue ? 'overdue' : null, tabindex: 0,
          onclick: () => this.showHazard(p.id), onkeydown: (e) => e.key === 'Enter' && this.showHazard(p.id) },
        cell('编号', p.code, 'nowrap col-code'),
        cell('隐患描述', p.description, 'col-wrap col-desc'),
        cell('风险单元', p.unit_name ? `${p.unit_name}（${p.unit_code || ''}）` : p.unit_code),
        cell('等级', levelBadge(p.level)),
        cell('状态', hazardStatusBadge(p)),
        cell('整改期限', deadlineNode(p), 'nowrap'),
        cell('督办', p.supervision ? p.supervision.by_label || SUPERVISION_BY[p.supervision.by] || '挂牌督办' : ''),
        cell('监管部门', p.department),
        cell('所属区域', region(p.region_code)))) : h('tr', h('td.empty', { colspan: 9 }, empty))));
  }

  // ---- 隐患详情 ----

  /** showHazard opens a hidden danger's details (in the panel, which opens if it is closed). */
  async showHazard(id) {
    if (this.el.hidden) {
      this.el.hidden = false;
      document.body.classList.add('hazards-open');
      document.addEventListener('keydown', this.onKey);
    }
    this.frame();
    this.el.dataset.view = 'hazard';
    replace(this.body, h('div.panel-loading', '正在加载…'));
    let res;
    let history;
    let photos;
    try {
      [res, history, photos] = await Promise.all([
        this.api.hazard(id),
        this.api.hazardHistory(id).catch(() => ({ items: [] })),
        this.api.hazardPhotos(id).catch(() => ({ items: [] })),
      ]);
    } catch (e) {
      replace(this.body, h('div.panel-error', e.status === 403 || e.status === 404 ? '该隐患不在您的管辖范围内，或已不存在。' : `无法加载隐患：${e.message}`),
        h('button.btn.btn-small', { type: 'button', onclick: () => this.show(this.tab) }, '返回'));
      return;
    }
    const data = res.data || {};
    const p = data.properties ? { ...data.properties, id: data.properties.id ?? data.id } : data;
    this.current = { p, etag: res.etag };
    this.renderHazard(p, history.items || [], photos.items || []);
  }

  renderHazard(p, history, photos) {
    const actions = new Set(p.actions || []);
    const box = h('div.hz-action-box', { hidden: true });
    const buttons = [];
    for (const to of ['reported', 'rectifying', 'accepted', 'closed']) {
      if (!actions.has(to)) continue;
      const failed = to === 'rectifying' && p.status === 'accepted';
      buttons.push(h(`button.btn.btn-small${to === 'closed' ? '.btn-ok' : failed ? '.btn-warn' : '.btn-primary'}`,
        { type: 'button', dataset: { action: `to-${to}` }, onclick: () => this.transitionBox(box, p, to) }, transitionLabel(p.status, to)));
    }
    if (actions.has('extension')) buttons.push(h('button.btn.btn-small', { type: 'button', dataset: { action: 'extension' }, onclick: () => this.extensionBox(box, p) }, '申请延期'));
    if (actions.has('extension_decision') && p.extension) {
      buttons.push(h('button.btn.btn-small.btn-ok', { type: 'button', dataset: { action: 'extension-approve' }, onclick: () => this.decisionBox(box, p, true) }, '批准延期'));
      buttons.push(h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'extension-reject' }, onclick: () => this.decisionBox(box, p, false) }, '驳回延期'));
    }
    if (actions.has('supervision')) buttons.push(h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'supervise' }, onclick: () => this.superviseBox(box, p) }, '挂牌督办'));
    if (actions.has('edit')) buttons.push(h('button.btn.btn-small', { type: 'button', dataset: { action: 'edit-hazard' }, onclick: () => this.hazardForm(null, p) }, '编辑'));

    const five = p.five || null;
    const sup = p.supervision;
    const ext = p.extension;
    const stage = (code, label) => {
      const items = photos.filter((x) => x.stage === code);
      const input = h(`input#hz-photo-${code}`, { type: 'file', accept: 'image/jpeg,image/png', 'aria-label': `上传${label}照片` });
      const err = h('div.field-error', { role: 'alert' });
      input.addEventListener('change', async () => {
        const file = input.files && input.files[0];
        if (!file) return;
        err.textContent = '';
        input.disabled = true;
        try {
          await this.api.uploadPhoto(p.id, code, file);
          toast(`已上传${label}照片`, 'ok');
          this.showHazard(p.id);
        } catch (e) {
          err.textContent = `上传失败：${e.message}`;
          input.disabled = false;
        }
      });
      return h('div.hz-photos', { dataset: { stage: code } },
        h('h4', label, h('span.count', ` ${items.length}`)),
        items.length
          ? h('div.hz-photo-list', items.map((x) => h('a.hz-photo', { href: x.url, target: '_blank', rel: 'noopener' },
            h('img', { src: x.url, alt: `${label}照片`, loading: 'lazy', width: x.width || null, height: x.height || null }),
            h('small', `${fmtDateTime(x.at)} · `, personNode(x.by)))))
          : h('p.muted', '暂无照片'),
        actions.has('photo') ? h('label.hz-upload', h('span.btn.btn-small', '选择照片上传'), input, h('small.hint', 'JPEG 或 PNG，不超过 10 MB；上传后去除位置等附加信息')) : null,
        err);
    };
    replace(this.body,
      h('div.hz-detail', { dataset: { id: p.id, status: p.status, level: p.level } },
        h('div.hz-detail-head',
          h('button.btn.btn-small', { type: 'button', dataset: { action: 'back' }, onclick: () => this.show(this.tab) }, '← 返回'),
          h('h3.hz-code', p.code || ''),
          levelBadge(p.level), hazardStatusBadge(p),
          p.overdue ? h('span.hz-overdue-badge', `逾期 ${fmtNumber(p.overdue_days || 0)} 天`) : null,
          sup ? h('span.hz-supervised-badge', sup.by_label || SUPERVISION_BY[sup.by] || '挂牌督办') : null),
        h('div.panel-actions.hz-actions', buttons.length ? buttons : h('span.muted', p.status === 'closed' ? '已销号，闭环完成。' : '您当前没有可执行的操作。')),
        box,
        loopSteps(p.status),
        h('div.hz-columns',
          h('div.hz-col',
            h('section.admin-section', h('h3', '隐患信息'), h('dl.kv-list',
              kv('隐患编号', p.code),
              kv('风险单元', p.unit_name ? h('button.linklike', { type: 'button', dataset: { action: 'unit' }, onclick: () => this.onUnit(p.unit_id) }, `${p.unit_name}（${p.unit_code}）`) : p.unit_code),
              kv('行业领域', this.ctx.categoryLabel(p.category)),
              kv('所属区域', this.ctx.regionName(p.region_code)),
              kv('监管部门', p.department),
              kv('隐患等级', HAZARD_LEVEL[p.level] || p.level_label),
              kv('隐患来源', p.source_label || HAZARD_SOURCE[p.source] || p.source, p.report_id ? `（举报 #${p.report_id}）` : null),
              kv('发现时间', p.found_at ? fmtDate(p.found_at) : ''),
              kv('发现人', p.found_by),
              kv('隐患位置', p.location),
              kv('隐患描述', p.description))),
            h('section.admin-section', h('h3', '整改'), h('dl.kv-list',
              kv('整改责任单位', p.responsible_unit),
              kv('整改责任人', p.responsible_person),
              kv('整改措施', p.measures),
              kv('整改期限', deadlineNode(p)),
              kv('状态', p.status_label || HAZARD_STATUS[p.status]),
              kv('验收申请', p.accepted_by ? [personNode(p.accepted_by), ` · ${fmtDateTime(p.accepted_at)}`] : ''),
              kv('复查销号', p.closed_by ? [personNode(p.closed_by), ` · ${fmtDateTime(p.closed_at)}`] : ''),
              kv('登记', p.created_by ? [personNode(p.created_by), ` · ${fmtDateTime(p.created_at)}`] : ''))),
            p.level === 'major' || five
              ? h('section.admin-section.hz-five', h('h3', '五落实（治理方案）'), five
                ? h('dl.kv-list', FIVE.map((x) => kv(x.label, five[x.code])))
                : h('p.muted', '尚未填写五落实；重大隐患进入整改前须填写。'))
              : null,
            sup ? h('section.admin-section.hz-supervision', h('h3', '挂牌督办'), h('dl.kv-list',
              kv('督办级别', sup.by_label || SUPERVISION_BY[sup.by] || sup.by),
              kv('督办人', personNode(sup.user)),
              kv('督办时间', fmtDateTime(sup.at)),
              kv('督办要求', sup.note))) : null,
            ext ? h('section.admin-section.hz-extension', h('h3', '延期申请（待审批）'), h('dl.kv-list',
              kv('申请延期至', fmtDate(ext.deadline)),
              kv('理由', ext.reason),
              kv('申请人', personNode(ext.requested_by)),
              kv('申请时间', fmtDateTime(ext.requested_at)))) : null),
          h('div.hz-col',
            h('section.admin-section', h('h3', '整改照片'), stage('before', '整改前'), stage('after', '整改后')),
            h('section.admin-section', h('h3', '处理记录'), timeline(history))))));
    this.el.dataset.hazardStatus = p.status || '';
  }

  /** noteBox asks for a note (optional or required) and runs act(note). */
  noteBox(box, { title, label, placeholder, required, confirm, extra = [], act, cls = '.btn-primary' }) {
    const note = h('textarea#hz-note', { rows: 3, maxlength: 1000, placeholder: placeholder || '' });
    const err = h('div.field-error', { role: 'alert' });
    const go = async (e) => {
      const v = note.value.trim();
      if (required && !v) {
        err.textContent = `请填写${label}`;
        note.focus();
        return;
      }
      e.target.disabled = true;
      try {
        await act(v);
      } catch (ex) {
        err.textContent = ex.message;
        e.target.disabled = false;
      }
    };
    replace(box,
      h('h4', title),
      extra,
      h('label', { for: 'hz-note' }, label, required ? h('span.req', ' *') : '（可选）'),
      note, err,
      h('div.reject-actions',
        h(`button.btn.btn-small${cls}`, { type: 'button', dataset: { action: 'confirm' }, onclick: go }, confirm),
        h('button.btn.btn-small', { type: 'button', onclick: () => (box.hidden = true) }, '取消')));
    box.hidden = false;
    note.focus();
  }

  async done(p, message) {
    toast(message, 'ok');
    this.onChanged && this.onChanged();
    await this.showHazard(p.id);
  }

  transitionBox(box, p, to) {
    const failed = to === 'rectifying' && p.status === 'accepted';
    const opts = {
      reported: { title: '上报隐患', label: '上报说明', placeholder: '如：已告知企业，要求限期整改' },
      rectifying: failed
        ? { title: '验收不通过，退回整改', label: '不通过的原因', placeholder: '如：防护栏高度仍不足 1.2 米', required: true, cls: '.btn-warn' }
        : { title: '开始整改', label: '说明', placeholder: '如：企业已制定整改方案' },
      accepted: { title: '整改完成，申请验收', label: '整改情况', placeholder: '如：已更换破损管道并试压合格' },
      closed: { title: '复查销号', label: '复查意见', placeholder: '如：经现场复查，整改到位，同意销号', required: true, cls: '.btn-ok' },
    }[to];
    this.noteBox(box, {
      ...opts,
      confirm: `确认${transitionLabel(p.status, to)}`,
      act: async (note) => {
        await this.api.transition(p.id, to, note);
        await this.done(p, `${p.code}：${transitionLabel(p.status, to)}`);
      },
    });
  }

  extensionBox(box, p) {
    const date = h('input#hz-ext-deadline', { type: 'date', min: p.deadline || null });
    this.noteBox(box, {
      title: '申请延期（须另一位有权限的用户批准）',
      label: '延期理由',
      placeholder: '如：需停产检修，设备到货需 30 天',
      required: true,
      confirm: '提交延期申请',
      extra: [h('label', { for: 'hz-ext-deadline' }, '申请延期至', h('span.req', ' *')), date],
      act: async (note) => {
        if (!date.value) throw new Error('请选择延期后的整改期限');
        await this.api.requestExtension(p.id, date.value, note);
        await this.done(p, '已提交延期申请');
      },
    });
  }

  decisionBox(box, p, approve) {
    this.noteBox(box, {
      title: approve ? `批准延期至 ${fmtDate(p.extension.deadline)}` : '驳回延期申请',
      label: '审批意见',
      required: !approve,
      confirm: approve ? '确认批准' : '确认驳回',
      cls: approve ? '.btn-ok' : '.btn-warn',
      act: async (note) => {
        await this.api.decideExtension(p.id, approve, note);
        await this.done(p, approve ? '已批准延期' : '已驳回延期申请');
      },
    });
  }

  superviseBox(box, p) {
    const u = this.user;
    // The city's supervision is for admins and experts; a district's, while there is none yet.
    const by = h('select#hz-sup-by',
      ['admin', 'expert'].includes(u.role) ? h('option', { value: 'city' }, '市级挂牌督办') : null,
      p.supervision ? null : h('option', { value: 'district' }, '区级挂牌督办'));
    this.noteBox(box, {
      title: '挂牌督办',
      label: '督办要求',
      placeholder: '如：限 30 日内完成整改，每周报告进度',
      confirm: '确认挂牌督办',
      cls: '.btn-warn',
      extra: [h('label', { for: 'hz-sup-by' }, '督办级别'), by],
      act: async (note) => {
        await this.api.supervise(p.id, by.value, note);
        await this.done(p, '已挂牌督办');
      },
    });
  }

  // ---- 登记隐患 / 编辑 ----

  /**
   * newHazard opens the form of a new hidden danger, for unit (a unit feature, whose
   * responsible unit and contact fill in the form) or with a unit to pick.
   */
  newHazard(unit) {
    if (this.el.hidden) this.open(this.tab);
    this.hazardForm(unit, null);
  }

  hazardForm(unit, existing) {
    this.frame();
    this.el.dataset.view = existing ? 'edit' : 'new';
    const up = (unit && unit.properties) || {};
    const e = existing || {};
    const picked = { id: unit ? unit.id : existing ? existing.unit_id : null };
    const respUnit = h('input#hz-responsible-unit', { maxlength: 200, value: e.responsible_unit ?? up.responsible_unit ?? '' });
    const respPerson = h('input#hz-responsible-person', { maxlength: 100, value: e.responsible_person ?? up.contact_person ?? '' });
    const picker = existing
      ? h('div.hz-unit-fixed', `${e.unit_name || ''}（${e.unit_code || ''}）`)
      : unitPicker(this.api, {
        id: 'hz-unit',
        initial: unit,
        onPick: (f) => {
          picked.id = f ? f.id : null;
          if (f) {
            if (!respUnit.value) respUnit.value = f.properties.responsible_unit || '';
            if (!respPerson.value) respPerson.value = f.properties.contact_person || '';
          }
        },
      });
    const level = h('select#hz-level', Object.entries(HAZARD_LEVEL).map(([k, v]) => h('option', { value: k, selected: (e.level || 'general') === k }, v)));
    const source = h('select#hz-source', Object.entries(HAZARD_SOURCE).filter(([k]) => k !== 'public_report' || e.source === k).map(([k, v]) => h('option', { value: k, selected: (e.source || 'inspection') === k }, v)));
    const foundAt = h('input#hz-found-at', { type: 'date', value: e.found_at ? fmtDate(e.found_at) : today(), max: today() });
    const foundBy = h('input#hz-found-by', { maxlength: 100, value: e.found_by || '', placeholder: '如：市应急局执法检查组' });
    const desc = h('textarea#hz-description', { rows: 3, maxlength: 2000, placeholder: '如：储罐区可燃气体报警器失效' });
    desc.value = e.description || '';
    const loc = h('input#hz-location', { maxlength: 200, value: e.location || '', placeholder: '如：2 号储罐区东侧' });
    const measures = h('textarea#hz-measures', { rows: 2, maxlength: 2000 });
    measures.value = e.measures || '';
    const deadline = h('input#hz-deadline', { type: 'date', value: e.deadline || '', min: today() });
    if (existing) deadline.disabled = true;
    const fiveInputs = Object.fromEntries(FIVE.map((x) => {
      const t = h(`textarea#hz-five-${x.code}`, { rows: 1, maxlength: 1000 });
      t.value = (e.five && e.five[x.code]) || '';
      return [x.code, t];
    }));
    const fiveBox = h('fieldset.form-section.hz-five-form', h('legend', '五落实（重大隐患）'),
      h('p.hint', '重大隐患须落实治理责任、措施、资金、时限和应急预案；离开“上报”状态前须填写完整。'),
      FIVE.map((x) => field(x.label, `five.${x.code}`, fiveInputs[x.code])));
    const syncFive = () => (fiveBox.hidden = level.value !== 'major');
    level.addEventListener('change', syncFive);
    syncFive();
    const summary = h('div.field-error.hz-form-error', { role: 'alert' });
    const form = h('form.admin-form.hz-form', { novalidate: true },
      h('div.form-grid',
        field('风险单元', 'unit_id', picker, { req: true, wide: true }),
        field('隐患等级', 'level', level, { req: true }),
        field('隐患来源', 'source', source),
        field('发现时间', 'found_at', foundAt, { req: true }),
        field('发现人', 'found_by', foundBy),
        field('隐患描述', 'description', desc, { req: true, wide: true }),
        field('隐患位置', 'location', loc, { wide: true }),
        field('整改责任单位', 'responsible_unit', respUnit, { req: true }),
        field('整改责任人', 'responsible_person', respPerson, { req: true }),
        field('整改措施', 'measures', measures, { wide: true }),
        field('整改期限', 'deadline', deadline, { req: true, hint: existing ? '整改期限只能通过延期申请变更' : null })),
      fiveBox,
      summary,
      h('div.form-actions',
        h('button.btn.btn-primary', { type: 'submit', dataset: { action: 'save-hazard' } }, existing ? '保存修改' : '登记'),
        h('button.btn', { type: 'button', onclick: () => (existing ? this.showHazard(existing.id) : this.show(this.tab)) }, '取消')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const five = level.value === 'major' && FIVE.some((x) => fiveInputs[x.code].value.trim())
        ? Object.fromEntries(FIVE.map((x) => [x.code, fiveInputs[x.code].value.trim()]))
        : null;
      const body = {
        level: level.value,
        source: source.value,
        found_at: foundAt.value,
        found_by: foundBy.value.trim(),
        description: desc.value.trim(),
        location: loc.value.trim(),
        responsible_unit: respUnit.value.trim(),
        responsible_person: respPerson.value.trim(),
        measures: measures.value.trim(),
        five,
      };
      if (!existing) {
        body.unit_id = picked.id;
        body.deadline = deadline.value;
      }
      // What the page can tell before asking: the unit and the required fields.
      const local = [];
      if (!existing && !picked.id) local.push({ field: 'unit_id', message: '请选择风险单元' });
      if (!body.description) local.push({ field: 'description', message: '请填写隐患描述' });
      if (!existing && !body.deadline) local.push({ field: 'deadline', message: '请选择整改期限' });
      if (local.length) {
        fieldErrors(form, { fields: local }, summary);
        return;
      }
      const btn = form.querySelector('[data-action=save-hazard]');
      btn.disabled = true;
      try {
        const v = existing ? await this.api.updateHazard(existing.id, body, this.current && this.current.etag) : await this.api.createHazard(body);
        const view = v && v.properties ? { ...v.properties, id: v.properties.id ?? v.id } : v;
        toast(existing ? `已保存：${view.code}` : `已登记隐患 ${view.code}`, 'ok');
        this.onChanged && this.onChanged();
        this.showHazard(view.id);
      } catch (err) {
        btn.disabled = false;
        if (err.status === 412) summary.textContent = '该隐患已被其他人修改，请返回后重新打开。';
        else fieldErrors(form, err, summary);
      }
    });
    replace(this.body, h('section.admin-section.hz-form-wrap', h('h3', existing ? `编辑隐患 ${e.code}` : '登记隐患'), form));
    (existing ? desc : unit ? level : this.body.querySelector('#hz-unit')).focus();
  }

  // ---- 督办 ----

  async supervisionTab() {
    const out = h('div.hz-supervision-out', h('div.panel-loading', '正在加载…'));
    append(this.body, out);
    let s;
    try {
      s = await this.api.supervision();
    } catch (e) {
      replace(out, h('div.panel-error', `无法加载督办：${e.message}`));
      return;
    }
    const c = s.counts || {};
    const card = (key, label, n) => h('button.hz-count', { type: 'button', dataset: { count: key, n: String(n ?? 0) }, onclick: () => {
      const el = out.querySelector(`[data-list="${key}"]`);
      if (el) el.scrollIntoView({ behavior: 'smooth', block: 'start' });
    } }, h('strong', fmtNumber(n ?? 0)), h('span', label));
    const unitTable = (rows, empty, what) => h('table.admin-table.hz-units',
      h('thead', h('tr', ['编号', '名称', '当前等级', '所属区域', '监管部门', what].map((t) => h('th', t)))),
      h('tbody', (rows || []).length ? rows.map((r) => {
        const p = r.properties ? { ...r.properties, id: r.properties.id ?? r.id } : r;
        return h('tr', { dataset: { id: p.id }, tabindex: 0, onclick: () => this.onUnit(p.id), onkeydown: (e) => e.key === 'Enter' && this.onUnit(p.id) },
          cell('编号', p.code, 'nowrap'), cell('名称', p.name), cell('当前等级', badge(p.grade || p.current_grade)),
          cell('所属区域', this.ctx.regionName(p.region_code)), cell('监管部门', p.responsible_department || p.department),
          cell(what, what === '下次复核'
            ? [fmtDate(p.next_review_due), p.overdue_days ? h('small.hz-overdue', ` 逾期 ${fmtNumber(p.overdue_days)} 天`) : null]
            : [fmtDate(p.reidentify_due || p.identified_at), p.identified_at && !p.reidentify_due ? h('small.muted', '（上次全面辨识）') : null], 'nowrap'));
      }) : h('tr', h('td.empty', { colspan: 6 }, empty))));
    const countTable = (rows, label, key) => h('table.admin-table.hz-counts',
      h('thead', h('tr', [label, '隐患总数', '未销号', '未销号重大', '逾期', '临期', '挂牌督办'].map((t) => h('th', t)))),
      h('tbody', (rows || []).length ? rows.map((r) => h('tr', { dataset: { key: r.key } },
        cell(label, key(r)), cell('隐患总数', fmtNumber(r.total), 'num'), cell('未销号', fmtNumber(r.open), 'num'),
        cell('未销号重大', fmtNumber(r.open_major), 'num'), cell('逾期', fmtNumber(r.overdue), 'num'),
        cell('临期', fmtNumber(r.due_soon), 'num'), cell('挂牌督办', fmtNumber(r.supervised), 'num'))) : h('tr', h('td.empty', { colspan: 7 }, '暂无隐患'))));
    const u = this.user;
    replace(out,
      h('p.hint.hz-scope', u.role === 'department' ? `范围：${u.department || '本部门'}管辖的单元 · 截至 ${s.today || today()}` : `范围：全市 · 截至 ${s.today || today()}`),
      h('div.hz-count-cards',
        card('overdue', '逾期未整改隐患', c.overdue),
        card('due_soon', '7 天内到期', c.due_soon),
        card('supervised', '挂牌督办重大隐患', c.supervised),
        card('reviews_overdue', '逾期未复核单元', c.reviews_overdue),
        card('reidentify_overdue', '超 5 年未全面辨识', c.reidentify_overdue)),
      h('section.admin-section', { dataset: { list: 'overdue' } }, h('h3', `逾期未整改隐患（${fmtNumber(c.overdue ?? 0)}）`), this.hazardTable(s.overdue || [], '没有逾期的隐患')),
      h('section.admin-section', { dataset: { list: 'due_soon' } }, h('h3', `7 天内到期（${fmtNumber(c.due_soon ?? 0)}）`), this.hazardTable(s.due_soon || [], '没有 7 天内到期的隐患')),
      h('section.admin-section', { dataset: { list: 'supervised' } }, h('h3', `挂牌督办的重大隐患（${fmtNumber(c.supervised ?? 0)}）`), this.hazardTable(s.supervised || [], '没有挂牌督办的隐患')),
      h('section.admin-section', { dataset: { list: 'reviews_overdue' } }, h('h3', `逾期未复核的风险单元（${fmtNumber(c.reviews_overdue ?? 0)}）`), unitTable(s.reviews_overdue, '没有逾期未复核的单元', '下次复核')),
      h('section.admin-section', { dataset: { list: 'reidentify_overdue' } }, h('h3', `超过 5 年未全面辨识的单元（${fmtNumber(c.reidentify_overdue ?? 0)}）`), unitTable(s.reidentify_overdue, '没有超期未全面辨识的单元', '全面辨识到期')),
      h('section.admin-section', { dataset: { list: 'by_department' } }, h('h3', '按监管部门'), countTable(s.by_department, '监管部门', (r) => r.label || r.key)),
      h('section.admin-section', { dataset: { list: 'by_region' } }, h('h3', '按区域'), countTable(s.by_region, '区域', (r) => r.label || this.ctx.regionName(r.key))));
    if (this.supervisionExtra) out.insertBefore(this.supervisionExtra(), out.children[2] || null);
  }

  // ---- 举报受理 ----

  async reportsTab() {
    const out = h('div.admin-list.hz-reports');
    const status = h('select#hz-r-status', { 'aria-label': '举报状态', onchange: () => { this.reportStatus = status.value; load(); } },
      h('option', { value: '' }, '全部'),
      Object.entries(REPORT_STATUS).map(([k, v]) => h('option', { value: k, selected: this.reportStatus === k }, v)));
    const info = h('span.hz-list-status');
    const load = async () => {
      replace(out, h('div.panel-loading', '正在加载…'));
      let r;
      try {
        r = await this.api.reports({ status: this.reportStatus || null, limit: 200 });
      } catch (e) {
        replace(out, h('div.panel-error', `无法加载举报：${e.message}`));
        return;
      }
      const items = r.items || [];
      info.textContent = `共 ${fmtNumber(r.total ?? items.length)} 条`;
      replace(out, h('table.admin-table.hz-report-table',
        h('thead', h('tr', ['受理编号', '类别', '描述', '所属区域', '监管部门', '状态', '举报时间'].map((t) => h('th', t)))),
        h('tbody', items.length ? items.map((x) => h('tr', { dataset: { id: x.id, status: x.status }, tabindex: 0, onclick: () => this.showReport(x.id), onkeydown: (e) => e.key === 'Enter' && this.showReport(x.id) },
          cell('受理编号', x.tracking_number, 'nowrap'),
          cell('类别', x.category_label || this.ctx.categoryLabel(x.category)),
          cell('描述', x.description, 'col-wrap col-desc'),
          cell('所属区域', this.ctx.regionName(x.region_code)),
          cell('监管部门', x.department),
          cell('状态', x.status_label || REPORT_STATUS[x.status] || x.status),
          cell('举报时间', fmtDateTime(x.created_at), 'nowrap'))) : h('tr', h('td.empty', { colspan: 7 }, '没有举报')))));
    };
    append(this.body,
      h('section.admin-section.hz-filters', h('div.hz-filter-row', h('label.form-field', h('span', '状态'), status), info,
        h('p.hint', '公众通过公众版“随手拍”提交的安全隐患举报。举报内容只在此处可见，不会出现在公众地图上。'))),
      h('section.admin-section', out));
    load();
  }

  async showReport(id) {
    this.frame();
    this.el.dataset.view = 'report';
    replace(this.body, h('div.panel-loading', '正在加载…'));
    let r;
    let photoList;
    try {
      [r, photoList] = await Promise.all([this.api.report(id), this.api.reportPhotos(id).catch(() => ({ items: [] }))]);
    } catch (e) {
      replace(this.body, h('div.panel-error', `无法加载举报：${e.message}`), h('button.btn.btn-small', { type: 'button', onclick: () => this.show('reports') }, '返回'));
      return;
    }
    const pt = reportPoint(r);
    const photos = (photoList && photoList.items) || [];
    const box = h('div.hz-action-box', { hidden: true });
    const received = r.status === 'received';
    const mapEl = h('div.hz-mini-map#hz-report-map', { role: 'application', 'aria-label': '举报位置和附近的风险单元' });
    replace(this.body,
      h('div.hz-detail.hz-report', { dataset: { id: r.id, status: r.status } },
        h('div.hz-detail-head',
          h('button.btn.btn-small', { type: 'button', dataset: { action: 'back' }, onclick: () => this.show('reports') }, '← 返回'),
          h('h3.hz-code', `举报 ${r.tracking_number || ''}`),
          h('span.hz-status', { dataset: { status: r.status } }, r.status_label || REPORT_STATUS[r.status] || r.status)),
        h('div.panel-actions.hz-actions', received
          ? [h('button.btn.btn-small.btn-primary', { type: 'button', dataset: { action: 'convert' }, onclick: () => this.convertForm(box, r, mini) }, '转为隐患'),
            h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'dismiss' }, onclick: () => this.noteBox(box, {
              title: '不予立案', label: '不予立案的理由', placeholder: '如：经核实，该处已于上周完成整改', required: true, confirm: '确认不予立案', cls: '.btn-warn',
              act: async (reason) => {
                await this.api.dismissReport(r.id, reason);
                toast('已处理：不予立案', 'ok');
                this.showReport(r.id);
              },
            }) }, '不予立案')]
          : h('span.muted', r.status === 'converted' ? '已转为隐患。' : '已处理。')),
        box,
        h('div.hz-columns',
          h('div.hz-col',
            h('section.admin-section', h('h3', '举报内容'), h('dl.kv-list',
              kv('受理编号', r.tracking_number),
              kv('类别', r.category_label || this.ctx.categoryLabel(r.category)),
              kv('描述', h('span.hz-report-text', r.description || '')),
              kv('联系方式', r.contact),
              kv('所属区域', this.ctx.regionName(r.region_code)),
              kv('监管部门', r.department),
              kv('举报时间', fmtDateTime(r.created_at)),
              kv('位置', pt ? `${pt[1].toFixed(6)}, ${pt[0].toFixed(6)}` : ''),
              r.hazard_id ? kv('转为隐患', h('button.linklike', { type: 'button', dataset: { action: 'open-hazard' }, onclick: () => this.showHazard(r.hazard_id) }, r.hazard_code || `#${r.hazard_id}`)) : null,
              r.reason ? kv('不予立案理由', r.reason) : null,
              r.handled_by ? kv('处理人', personNode(r.handled_by), ` · ${fmtDateTime(r.handled_at)}`) : null)),
            h('section.admin-section', h('h3', '举报照片'), photos.length
              ? h('div.hz-photo-list', photos.map((x) => h('a.hz-photo', { href: x.url, target: '_blank', rel: 'noopener' }, h('img', { src: x.url, alt: '举报照片' }))))
              : h('p.muted', '未附照片'))),
          h('div.hz-col', h('section.admin-section', h('h3', '位置'), mapEl, h('p.hint', received ? '红色标记为举报位置；点击附近的风险单元可在“转为隐患”中选中它。' : '红色标记为举报位置。'))))));
    const mini = pt ? miniMap(this.api, mapEl, pt) : null;
  }

  /** convertForm turns a report into a hidden danger of a unit picked by search or on the map. */
  convertForm(box, r, mini) {
    const picked = { id: null };
    const respUnit = h('input#hz-cv-responsible-unit', { maxlength: 200 });
    const respPerson = h('input#hz-cv-responsible-person', { maxlength: 100 });
    const picker = unitPicker(this.api, { id: 'hz-cv-unit', onPick: (f) => {
      picked.id = f ? f.id : null;
      if (f) {
        if (!respUnit.value) respUnit.value = f.properties.responsible_unit || '';
        if (!respPerson.value) respPerson.value = f.properties.contact_person || '';
      }
    } });
    if (mini) mini.onPick = (f) => picker.pick(f);
    const level = h('select#hz-cv-level', Object.entries(HAZARD_LEVEL).map(([k, v]) => h('option', { value: k }, v)));
    const deadline = h('input#hz-cv-deadline', { type: 'date', min: today() });
    const desc = h('textarea#hz-cv-description', { rows: 2, maxlength: 2000 });
    desc.value = r.description || '';
    const measures = h('textarea#hz-cv-measures', { rows: 2, maxlength: 2000 });
    const summary = h('div.field-error', { role: 'alert' });
    const form = h('form.admin-form.hz-form', { novalidate: true },
      h('h4', '转为隐患'),
      h('div.form-grid',
        field('风险单元', 'unit_id', picker, { req: true, wide: true, hint: '按编号或名称搜索，或在右侧地图上点击单元' }),
        field('隐患等级', 'level', level, { req: true }),
        field('整改期限', 'deadline', deadline, { req: true }),
        field('隐患描述', 'description', desc, { wide: true }),
        field('整改责任单位', 'responsible_unit', respUnit, { req: true }),
        field('整改责任人', 'responsible_person', respPerson, { req: true }),
        field('整改措施', 'measures', measures, { wide: true })),
      summary,
      h('div.reject-actions',
        h('button.btn.btn-small.btn-primary', { type: 'submit', dataset: { action: 'confirm-convert' } }, '确认转为隐患'),
        h('button.btn.btn-small', { type: 'button', onclick: () => (box.hidden = true) }, '取消')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!picked.id) {
        fieldErrors(form, { fields: [{ field: 'unit_id', message: '请选择风险单元' }] }, summary);
        return;
      }
      const body = { unit_id: picked.id, level: level.value, deadline: deadline.value, description: desc.value.trim(), responsible_unit: respUnit.value.trim(), responsible_person: respPerson.value.trim(), measures: measures.value.trim() };
      try {
        const v = await this.api.convertReport(r.id, body);
        const view = v && v.properties ? { ...v.properties, id: v.properties.id ?? v.id } : v;
        toast(`已转为隐患 ${view.code}`, 'ok');
        this.onChanged && this.onChanged();
        this.showHazard(view.id);
      } catch (err) {
        fieldErrors(form, err, summary);
      }
    });
    replace(box, form);
    box.hidden = false;
    box.querySelector('#hz-cv-unit').focus();
  }

  // ---- 统计图表 ----

  async chartsTab() {
    const out = h('div.hz-charts', h('div.panel-loading', '正在加载…'));
    append(this.body, out);
    let mod;
    let data;
    try {
      [mod, data] = await Promise.all([
        import('./charts.js'),
        Promise.all(['category', 'region', 'department'].map((by) => this.api.hazardStats(by))),
      ]);
    } catch (e) {
      replace(out, h('div.panel-error', `无法加载统计：${e.message}`));
      return;
    }
    if (this.tab !== 'charts' || this.el.hidden) return;
    const [cat, reg, dep] = data;
    const label = { category: (r) => r.label || this.ctx.categoryLabel(r.key), region: (r) => r.label || this.ctx.regionName(r.key), department: (r) => r.label || r.key };
    const t = cat.total || cat.totals || {};
    const rate = (r) => (r.rectification_rate != null ? r.rectification_rate : r.total ? r.accepted / r.total : 0);
    replace(out,
      h('div.hz-count-cards',
        h('div.hz-count', { dataset: { count: 'total' } }, h('strong', fmtNumber(t.total ?? 0)), h('span', '隐患总数')),
        h('div.hz-count', { dataset: { count: 'rate' } }, h('strong', `${(100 * rate(t)).toFixed(1)}%`), h('span', '整改率')),
        h('div.hz-count', { dataset: { count: 'overdue' } }, h('strong', fmtNumber(t.overdue ?? 0)), h('span', '逾期未整改')),
        h('div.hz-count', { dataset: { count: 'open_major' } }, h('strong', fmtNumber(t.open_major ?? 0)), h('span', '未销号重大隐患'))),
      h('p.hint', '整改率 = 已整改（验收或销号）的隐患 ÷ 隐患总数。'),
      mod.chartBox('rate', '整改率（按监管部门）'),
      mod.chartBox('overdue', '逾期隐患数（按区域）'),
      mod.chartBox('major-category', '未销号重大隐患（按行业领域）'),
      mod.chartBox('major-region', '未销号重大隐患（按区域）'),
      mod.chartBox('major-department', '未销号重大隐患（按监管部门）'));
    const items = (d) => d.items || [];
    mod.drawBars(out, 'rate', items(dep).map((r) => [label.department(r), Math.round(1000 * rate(r)) / 10]), { unit: '%', max: 100, colour: '#1b7f3b' });
    mod.drawBars(out, 'overdue', items(reg).map((r) => [label.region(r), r.overdue]), { unit: '条', colour: '#c4161c' });
    const red = grade('red').fill;
    mod.drawBars(out, 'major-category', items(cat).filter((r) => r.open_major > 0).map((r) => [label.category(r), r.open_major]), { unit: '条', colour: red });
    mod.drawBars(out, 'major-region', items(reg).filter((r) => r.open_major > 0).map((r) => [label.region(r), r.open_major]), { unit: '条', colour: red });
    mod.drawBars(out, 'major-department', items(dep).filter((r) => r.open_major > 0).map((r) => [label.department(r), r.open_major]), { unit: '条', colour: red });
  }
}

function append(el, ...children) {
  for (const c of children.flat()) if (c) el.appendChild(c);
  return el;
}

/** loopSteps draws the closed loop with the current step marked. */
function loopSteps(status) {
  const order = ['registered', 'reported', 'rectifying', 'accepted', 'closed'];
  const at = order.indexOf(status);
  return h('ol.hz-steps', { 'aria-label': '闭环进度' }, order.map((s, i) =>
    h('li', { class: i < at ? 'done' : i === at ? 'current' : null, dataset: { step: s } }, HAZARD_STATUS[s])));
}

const EVENT_KIND = { created: '登记', transition: '状态变更', edited: '修改', extension: '延期申请', ext_decision: '延期审批', supervision: '挂牌督办', photo: '上传照片' };

/** timeline is the history: who, when, what and the note. */
function timeline(items) {
  if (!items.length) return h('p.muted', '暂无记录');
  return h('ol.hz-timeline', items.map((ev) => {
    let what = ev.kind_label || EVENT_KIND[ev.kind] || ev.kind;
    if (ev.kind === 'transition') what = `${ev.from_label || HAZARD_STATUS[ev.from] || ev.from || ''} → ${ev.to_label || HAZARD_STATUS[ev.to] || ev.to || ''}`;
    if (ev.kind === 'ext_decision' && ev.data) what = ev.data.approve || ev.data.decision === 'approved' ? '批准延期' : '驳回延期';
    if (ev.kind === 'extension' && ev.data && ev.data.deadline) what = `申请延期至 ${fmtDate(String(ev.data.deadline))}`;
    if (ev.kind === 'photo' && ev.data && ev.data.stage) what = `上传${ev.data.stage === 'after' ? '整改后' : '整改前'}照片`;
    if (ev.kind === 'supervision' && ev.data && ev.data.by) what = SUPERVISION_BY[ev.data.by] || what;
    return h('li', { dataset: { kind: ev.kind, to: ev.to || '' } },
      h('div.hz-ev-head', h('strong', what), h('span.muted', ` ${fmtDateTime(ev.at)} · `), ev.by_label ? h('span.person', ev.by_label) : personNode(ev.by)),
      ev.note ? h('p.hz-ev-note', ev.note) : null);
  }));
}

/** reportPoint is a report's [lon, lat], whichever way the API writes it. */
function reportPoint(r) {
  if (r.geometry && Array.isArray(r.geometry.coordinates)) return r.geometry.coordinates;
  if (Array.isArray(r.point)) return r.point;
  if (r.lon != null && r.lat != null) return [Number(r.lon), Number(r.lat)];
  if (r.location && r.location.lon != null) return [Number(r.location.lon), Number(r.location.lat)];
  return null;
}

/**
 * unitPicker finds a unit by code or name (GET /units?q=) and keeps the one picked. The
 * returned element has pick(feature) for a unit chosen elsewhere (on the map).
 */
export function unitPicker(api, { id, initial = null, onPick }) {
  const input = h(`input#${id}`, { type: 'search', autocomplete: 'off', placeholder: '输入单元编号或名称搜索', 'aria-label': '风险单元' });
  const list = h('ul.hz-pick-list', { hidden: true, role: 'listbox' });
  const chosen = h('div.hz-picked', { 'aria-live': 'polite' });
  const wrap = h('div.hz-picker', input, list, chosen);
  const pick = (f) => {
    list.hidden = true;
    wrap.dataset.unitId = f ? String(f.id) : '';
    replace(chosen, f ? [badge(f.properties.grade), ` ${f.properties.name}（${f.properties.code}）`] : '');
    if (f) input.value = '';
    onPick && onPick(f);
  };
  wrap.pick = pick;
  const search = debounce(async () => {
    const q = input.value.trim();
    if (!q) {
      list.hidden = true;
      return;
    }
    try {
      const fc = await api.units({ q, limit: 10 });
      replace(list, fc.features.length ? fc.features.map((f) => h('li.search-item', { role: 'option', dataset: { id: f.id, code: f.properties.code }, onclick: () => pick(f) },
        badge(f.properties.grade), h('span.search-text', h('span.search-main', f.properties.name), h('span.search-sub', f.properties.code))))
        : h('li.search-empty', '没有找到符合的单元'));
      list.hidden = false;
    } catch {
      list.hidden = true;
    }
  }, 250);
  input.addEventListener('input', search);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      const first = list.querySelector('li[data-id]');
      if (first) first.click();
    }
  });
  if (initial) pick(initial);
  return wrap;
}

/**
 * miniMap shows a report's place and the units around it (GET /units?bbox=), coloured by
 * grade; clicking one calls the returned object's onPick(feature).
 */
function miniMap(api, el, pt) {
  const out = { onPick: null };
  setTimeout(async () => {
    const map = L.map(el, { zoomControl: true, attributionControl: false }).setView([pt[1], pt[0]], 16);
    L.circleMarker([pt[1], pt[0]], { radius: 9, color: '#7a0009', weight: 3, fillColor: '#ffffff', fillOpacity: 0.9, className: 'hz-report-mark' }).addTo(map).bindTooltip('举报位置');
    const d = 0.01;
    try {
      const fc = await api.units({ bbox: [pt[0] - d, pt[1] - d, pt[0] + d, pt[1] + d].map((x) => x.toFixed(6)).join(','), limit: 200 });
      L.geoJSON(fc, {
        pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 7 }),
        style: (f) => ({ color: grade(f.properties.grade).outline, fillColor: grade(f.properties.grade).fill, fillOpacity: 0.7, weight: 2 }),
        onEachFeature: (f, layer) => {
          layer.bindTooltip(`${f.properties.name}（${f.properties.code}）`);
          layer.on('click', () => out.onPick && out.onPick(f));
          if (layer.getElement) layer.once('add', () => layer.getElement() && layer.getElement().setAttribute('data-unit', String(f.id)));
        },
      }).addTo(map);
    } catch {
      /* the report's place alone */
    }
    map.invalidateSize();
  }, 0);
  return out;
}
