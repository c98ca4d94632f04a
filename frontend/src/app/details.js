// The unit details panel: every field of the register row, the grade and why.
import { h, replace } from '../lib/dom.js';
import { badge, grade } from '../lib/grades.js';
import { STATUS, CONTROL_GROUPS, HAZARD_LEVELS, METHODS, fmtDate, fmtDateTime, GEOM_LABELS, ruleLabel, overdueDays } from '../lib/labels.js';
import { personNode } from '../lib/people.js';
import '../css/review.css';
import '../css/hazards.css';
import { HAZARD_STATUS, HAZARD_LEVEL } from '../lib/labels.js';

/** statusBadge is a unit's review status (草稿/待审核/已审核/已注销) as a small label. */
export function statusBadge(status) {
  return h('span.status-badge', { dataset: { status: status || '' } }, STATUS[status] || status || '—');
}

function row(label, ...value) {
  const v = value.filter((x) => x != null && x !== '');
  return h('div.kv', h('dt', label), h('dd', v.length ? v : '—'));
}

/**
 * renderUnit fills panel with the details of feature. ctx has catalog lookups
 * (categoryLabel, accidentLabel, regionName), actions (onEdit, onClose, onZoom,
 * onReview(action, reason)), canEdit, and review: the unit's GET /units/{id}/review (or
 * null), whose can_edit and can_approve decide which review buttons show.
 */
export function renderUnit(panel, feature, ctx) {
  const p = feature.properties;
  const ex = p.explanation || {};
  const g = grade(p.grade);
  const a = p.assessment || {};
  const inputs =
    a.method === 'LS'
      ? `可能性 L = ${a.likelihood}，严重性 S = ${a.severity}`
      : a.method === 'LEC'
        ? `L = ${a.l}，E = ${a.e}，C = ${a.c}`
        : '—';
  const controls = CONTROL_GROUPS.map((cg) => {
    const items = (p.controls && p.controls[cg.code]) || [];
    return h('div.control-group', h('h4', cg.label, h('span.count', ` ${items.length}`)), items.length ? h('ul', items.map((s) => h('li', s))) : h('p.muted', '未填写'));
  });
  const rejectBox = h('div.reject-box', { hidden: true });
  ctx = { ...ctx, rejectBox, feature };
  replace(
    panel,
    h(
      'div.panel-head',
      h('div.panel-title', badge(p.grade, true), statusBadge((ctx.review && ctx.review.status) || p.status),
        ctx.review && ctx.review.retire_pending ? h('span.status-badge.retire-badge', { dataset: { status: 'retiring' } }, '注销待审核') : null,
        h('h2.unit-name', { title: p.name }, p.name)),
      h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: ctx.onClose }, '×'),
    ),
    h(
      'div.panel-actions',
      h('button.btn.btn-small', { type: 'button', onclick: ctx.onZoom }, '定位'),
      ctx.canEdit ? h('button.btn.btn-small.btn-primary', { type: 'button', onclick: ctx.onEdit, dataset: { action: 'edit' } }, '编辑') : null,
      reviewButtons(p, ctx),
    ),
    rejectBox,
    h(
      'div.panel-body',
      h('section.grade-box', { style: { borderColor: g.outline, background: g.fill + '22' } },
        h('div.grade-line', h('strong', g.label), h('span', `（${g.colour_name}）`), p.risk_value != null ? h('span.risk-value', `风险值 ${p.risk_value}`) : null),
        gradePair(p),
        p.dynamic_explanation ? h('p.dynamic-explanation', p.dynamic_explanation) : null,
        h('p.explanation', ex.text || '—'),
        h('dl.kv-list',
          row('评估方法', METHODS[ex.method || a.method] || ex.method || a.method || '—'),
          row('评估输入', inputs),
          row('判定规则', ruleLabel(ex.rule) || '—'),
          p.direct_major_reason ? row('直接判定理由', p.direct_major_reason) : null,
        ),
      ),
      ctx.conflicts || null,
      unitHazards(p, ctx),
      ctx.monitoring || null,
      reviewSection(p, ctx.review),
      p.status === 'draft' && ctx.canEdit ? checklist(p) : null,
      h('section', h('h3', '基本信息'), h('dl.kv-list',
        row('编号', p.code),
        row('行业领域', ctx.categoryLabel(p.category), p.sub_category ? ` · ${p.sub_category}` : null),
        row('所属区域', ctx.regionName(p.region_code)),
        row('地址', p.address),
        row('公开名称', p.public_label),
        row('空间形态', GEOM_LABELS[feature.geometry && feature.geometry.type] || ''),
        row('状态', STATUS[p.status] || p.status),
      )),
      h('section', h('h3', '风险特征'), h('dl.kv-list',
        row('事故类型', (p.accident_types || []).map(ctx.accidentLabel).join('、')),
        row('重大危险源', p.major_hazard_source ? `是（${HAZARD_LEVELS[p.major_hazard_source.level] || p.major_hazard_source.level}）` : '否'),
        row('主要风险因素', p.major_risk_factors),
        row('影响半径', p.influence_radius_m ? `${p.influence_radius_m} 米` : ''),
      )),
      h('section', h('h3', '管控措施'), controls),
      h('section', h('h3', '责任与复核'), h('dl.kv-list',
        row('监管部门', p.responsible_department),
        row('责任单位', p.responsible_unit),
        row('联系人', p.contact_person),
        row('联系电话', p.contact_phone),
        row('评估单位', p.assessed_by),
        row('评估时间', p.assessed_at ? fmtDate(p.assessed_at) : ''),
        row('复核状态', reviewState(p)),
        row('下次复核', p.next_review_due ? fmtDate(p.next_review_due) : '',
          overdueDays(p.next_review_due) ? h('span.overdue-badge', `逾期 ${overdueDays(p.next_review_due).toLocaleString('zh-CN')} 天未复核`) : null),
        row('全面辨识', p.identified_at ? fmtDate(p.identified_at) : '',
          p.reidentify_due ? ` · 应于 ${fmtDate(p.reidentify_due)} 前重新全面辨识` : null,
          p.reidentify_overdue ? h('span.overdue-badge.reidentify-badge', '已超过 5 年未全面辨识') : null),
        row('版本', p.version != null ? `第 ${p.version} 版 · 更新于 ${fmtDate(p.updated_at)}` : ''),
      )),
    ),
  );
}

/**
 * reviewButtons are 提交审核, 审核通过 and 退回 (同意注销 and 驳回 for a retirement request),
 * and 注销, as the review's can_* flags allow. 提交审核 is disabled, saying what is missing,
 * while the unit is not complete.
 */
function reviewButtons(p, ctx) {
  const r = ctx.review;
  if (!r || !ctx.onReview || !ctx.editable) return null;
  const status = r.status || p.status;
  const out = [];
  if (status === 'draft' && (r.can_submit ?? r.can_edit)) {
    const missing = missingItems(p);
    out.push(h('button.btn.btn-small', {
      type: 'button', dataset: { action: 'submit' }, disabled: missing.length > 0,
      title: missing.length ? `尚缺：${missing.map((m) => m.label).join('、')}` : '提交给评估专家审核',
      onclick: () => ctx.onReview('submit'),
    }, missing.length ? `提交审核（尚缺 ${missing.length} 项）` : '提交审核'));
  }
  if (status === 'submitted' && r.can_approve) {
    const retire = !!r.retire_pending;
    out.push(h('button.btn.btn-small.btn-ok', { type: 'button', dataset: { action: 'approve' }, onclick: () => openApprove(ctx) }, retire ? '同意注销' : '审核通过'));
    out.push(h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'reject' }, onclick: () => openReject(ctx) }, retire ? '驳回注销' : '退回'));
  }
  if (r.can_retire && status !== 'retired') {
    out.push(h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'retire' }, onclick: () => openRetire(ctx) }, r.retire_direct ? '注销' : '申请注销'));
  }
  return out;
}

function openReject(ctx) {
  const box = ctx.rejectBox;
  const retire = !!(ctx.review && ctx.review.retire_pending);
  const reason = h('textarea#reject-reason', { rows: 2, maxlength: 500, placeholder: retire ? '审核意见（可选），如：企业仍在生产，不予注销' : '退回意见（可选），如：评估依据不足' });
  replace(box,
    h('label', { for: 'reject-reason' }, retire ? '驳回注销申请的意见' : '退回意见'),
    reason,
    h('div.reject-actions',
      h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'confirm-reject' }, onclick: () => ctx.onReview('reject', reason.value.trim()) }, retire ? '确认驳回' : '确认退回'),
      h('button.btn.btn-small', { type: 'button', onclick: () => (box.hidden = true) }, '取消')));
  box.classList.remove('approve-box');
  box.hidden = false;
  reason.focus();
}

/** openRetire asks for the reason of a retirement (注销理由) before asking for it. */
function openRetire(ctx) {
  const box = ctx.rejectBox;
  const r = ctx.review || {};
  const direct = !!r.retire_direct;
  const reason = h('textarea#retire-reason', { rows: 2, maxlength: 500, placeholder: '如：企业已搬迁，原址不再存在该风险' });
  const err = h('div.field-error', { role: 'alert' });
  const confirm = () => {
    const v = reason.value.trim();
    if (!direct && !v) {
      err.textContent = '请填写注销理由';
      reason.focus();
      return;
    }
    ctx.onReview('retire', v ? { reason: v } : {});
  };
  replace(box,
    h('label', { for: 'retire-reason' }, direct ? '注销理由（可选）' : '注销理由', direct ? null : h('span.req', ' *')),
    h('p.hint', direct
      ? '该单元从未审核通过，由您直接注销。'
      : '注销须经另一位评估专家或管理员审核：审核通过前，该单元仍在已审核清单中，公众版照常显示。'),
    reason, err,
    h('div.reject-actions',
      h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'confirm-retire' }, onclick: confirm }, direct ? '确认注销' : '提交注销申请'),
      h('button.btn.btn-small', { type: 'button', onclick: () => (box.hidden = true) }, '取消')));
  box.classList.remove('approve-box');
  box.hidden = false;
  reason.focus();
}

/**
 * openApprove shows the reviewer what approving means before it is done: the revision
 * against the approved one, field by field, the grades side by side, the reason of a
 * lowered grade or of a retirement request, and a comment (审核意见). 确认 approves.
 */
function openApprove(ctx) {
  const box = ctx.rejectBox;
  const r = ctx.review || {};
  const p = ctx.feature.properties;
  const retire = !!r.retire_pending;
  const comment = h('textarea#approve-comment', { rows: 2, maxlength: 500, placeholder: retire ? '审核意见（可选），如：已核实企业搬迁' : '审核意见（可选），如：评估依据充分' });
  const parts = [];
  if (retire) {
    parts.push(h('div.retire-request',
      h('strong', '注销申请'),
      h('dl.kv-list', row('申请人', r.retire_requested_by ? personNode(r.retire_requested_by) : ''), row('申请时间', r.retire_requested_at ? fmtDateTime(r.retire_requested_at) : ''), row('注销理由', r.retire_reason)),
      h('p.hint', '同意后该单元注销，下次发布时从公众版移除。')));
  } else {
    parts.push(gradeCompare(r.approved_grade || (r.approved && r.approved.properties.grade), p.grade, r.downgrade_reason));
    parts.push(diffTable(r.approved, ctx.feature, ctx));
  }
  replace(box,
    h('h4.approve-title', retire ? '确认同意注销' : `确认审核通过第 ${p.version} 版（通过后记为第 ${p.version + 1} 版）`),
    parts,
    h('label', { for: 'approve-comment' }, '审核意见'),
    comment,
    h('div.reject-actions',
      h('button.btn.btn-small.btn-ok', { type: 'button', dataset: { action: 'confirm-approve' }, onclick: () => ctx.onReview('approve', { comment: comment.value.trim() }) }, retire ? '确认注销' : '确认通过'),
      h('button.btn.btn-small', { type: 'button', onclick: () => (box.hidden = true) }, '取消')));
  box.classList.add('approve-box');
  box.hidden = false;
  comment.focus();
}

/** lowered reports whether grade g is below grade approved (both known). */
export function lowered(g, approved) {
  const a = grade(approved).rank;
  const b = grade(g).rank;
  return !!g && !!approved && a < 5 && b < 5 && b > a;
}

/** gradeCompare shows the approved grade and the revision's side by side, and the reason of a lowered one. */
function gradeCompare(old, now, reason) {
  if (!old) return h('p.hint.first-review', `首次审核：尚无已审核的版本。本版等级：${grade(now).label}`);
  const down = lowered(now, old);
  return h('div.grade-compare', { dataset: { lowered: down ? '1' : '0' } },
    h('span.muted', '等级：'), badge(old, true), h('span.arrow', ' → '), badge(now, true),
    old === now ? h('span.muted', '（未变）') : h('span', down ? '（降级）' : '（升级）'),
    down ? h('p.downgrade-reason', h('strong', '降级理由：'), reason || '（未填写）') : null);
}

const DIFF_FIELDS = [
  ['code', '编号'], ['name', '名称'], ['public_label', '公开名称'], ['category', '行业领域'], ['sub_category', '子类'],
  ['region_code', '所属区域'], ['address', '地址'], ['accident_types', '事故类型'], ['major_hazard_source', '重大危险源'],
  ['major_risk_factors', '主要风险因素'], ['assessment', '评估输入'], ['direct_major_reason', '直接判定理由'],
  ...CONTROL_GROUPS.map((g) => [`controls.${g.code}`, g.label]),
  ['responsible_department', '监管部门'], ['responsible_unit', '责任单位'], ['contact_person', '联系人'], ['contact_phone', '联系电话'],
  ['influence_radius_m', '影响半径'], ['assessed_by', '评估单位'], ['assessed_at', '评估时间'], ['next_review_due', '下次复核'],
];

/** showValue writes one field's value as a reviewer reads it. */
function showValue(key, p, ctx) {
  const v = key.startsWith('controls.') ? ((p.controls || {})[key.slice(9)] || []) : p[key];
  switch (key) {
    case 'category':
      return ctx.categoryLabel ? ctx.categoryLabel(v) : v || '';
    case 'region_code':
      return v && ctx.regionName ? ctx.regionName(v) : v || '';
    case 'accident_types':
      return (v || []).map((x) => (ctx.accidentLabel ? ctx.accidentLabel(x) : x)).join('、');
    case 'major_hazard_source':
      return v ? `是（${HAZARD_LEVELS[v.level] || v.level}）` : '否';
    case 'assessment':
      if (!v) return '';
      return v.method === 'LS' ? `风险矩阵 L = ${v.likelihood}，S = ${v.severity}` : `LEC L = ${v.l}，E = ${v.e}，C = ${v.c}`;
    case 'assessed_at':
    case 'next_review_due':
      return v ? fmtDate(v) : '';
    case 'influence_radius_m':
      return v ? `${v} 米` : '';
  }
  if (Array.isArray(v)) return v.join('；');
  return v == null ? '' : String(v);
}

/** diffTable lists the fields a revision changes against the approved one: old → new. */
function diffTable(approved, feature, ctx) {
  if (!approved) return null;
  const a = approved.properties || {};
  const b = feature.properties;
  const rows = [];
  for (const [key, label] of DIFF_FIELDS) {
    const old = showValue(key, a, ctx);
    const now = showValue(key, b, ctx);
    if (old !== now) rows.push(h('tr', { dataset: { field: key } }, h('th', label), h('td.old', old || '—'), h('td.new', now || '—')));
  }
  if (JSON.stringify(approved.geometry) !== JSON.stringify(feature.geometry)) {
    rows.push(h('tr', { dataset: { field: 'geometry' } }, h('th', '位置'), h('td.old', GEOM_LABELS[approved.geometry && approved.geometry.type] || ''), h('td.new', `${GEOM_LABELS[feature.geometry && feature.geometry.type] || ''}（位置已修改）`)));
  }
  return h('div.review-diff-wrap',
    h('p.diff-title', `与已审核的第 ${approved.properties.version} 版相比：`),
    rows.length
      ? h('table.review-diff', h('thead', h('tr', h('th', '字段'), h('th', '已审核版本'), h('th', '本版'))), h('tbody', rows))
      : h('p.hint.no-diff', '字段没有变化。'));
}

/** missingItems is what a unit lacks before 提交审核 (the server's riskmap.Unit.CheckComplete). */
export function missingItems(p) {
  return checkItems(p).filter((x) => !x.ok);
}

function checkItems(p) {
  const filled = (s) => String(s || '').trim() !== '';
  return [
    ...CONTROL_GROUPS.map((g) => ({ field: `controls.${g.code}`, label: g.label, ok: ((p.controls && p.controls[g.code]) || []).some(filled) })),
    { field: 'responsible_unit', label: '责任单位', ok: filled(p.responsible_unit) },
    { field: 'contact_person', label: '联系人', ok: filled(p.contact_person) },
    { field: 'contact_phone', label: '联系电话', ok: filled(p.contact_phone) },
    { field: 'assessed_at', label: '评估时间', ok: !!p.assessed_at },
  ];
}

/** checklist shows what 提交审核 needs, item by item, and what is still missing. */
export function checklist(p) {
  const items = checkItems(p);
  const missing = items.filter((x) => !x.ok);
  return h('section.submit-checklist', { dataset: { complete: missing.length ? '0' : '1' } },
    h('h3', '提交审核前的检查'),
    h('p', missing.length ? `尚缺 ${missing.length} 项：${missing.map((x) => x.label).join('、')}` : '信息已齐全，可以提交审核。'),
    h('ul', items.map((x) => h('li', { dataset: { field: x.field, ok: x.ok ? '1' : '0' } }, x.ok ? '✓ ' : '✗ ', x.label))));
}

/** reviewSection says where the unit stands in review and which version the public sees. */
function reviewSection(p, r) {
  if (!r) return null;
  // People by 姓名（单位）, their login as the tooltip.
  const who = (name, at) => (name ? personNode(name, at ? ` · ${fmtDateTime(at)}` : '') : '');
  const status = r.status || p.status;
  let note = null;
  if (status !== 'approved' && r.approved_version) note = `公众版显示已审核的第 ${r.approved_version} 版，本版审核通过并发布后更新。`;
  else if (status !== 'approved' && !r.approved_version) note = '尚无已审核的版本：审核通过并发布后才在公众版显示。';
  else if (status === 'approved') note = '已审核：发布后在公众版显示。';
  if (r.retire_pending) note = '注销申请经另一位评估专家或管理员审核通过后，该单元注销，下次发布时从公众版移除。';
  if (status === 'retired') note = '已注销：不再参与评级与统计；若已发布，下次发布时从公众版移除。';
  if (status === 'submitted' && !r.can_approve && r.can_edit) note = `${note || ''}待评估专家审核（${r.retire_pending ? '申请人本人不能审核自己的注销申请' : '作者本人不能审核自己的修改'}）。`;
  return h('section.review', { dataset: { status } }, h('h3', '审核'),
    h('dl.kv-list',
      row('状态', statusBadge(status)),
      row('当前版本', r.version != null ? `第 ${r.version} 版` : ''),
      row('编写人', who(r.updated_by || r.created_by)),
      row('提交人', who(r.submitted_by, r.submitted_at)),
      row('审核人', who(r.reviewed_by, r.reviewed_at)),
      row('已审核版本', r.approved_version ? `第 ${r.approved_version} 版` : '无'),
      r.comment ? row('审核意见', h('span.review-comment', r.comment)) : null,
      r.approved_grade && r.approved_grade !== p.grade && status !== 'approved'
        ? row('等级变化', gradeCompare(r.approved_grade, p.grade, r.downgrade_reason))
        : null),
    r.retire_pending
      ? h('div.retire-request', { dataset: { pending: '1' } },
        h('strong', '注销申请待审核'),
        h('dl.kv-list', row('申请人', r.retire_requested_by ? personNode(r.retire_requested_by) : ''), row('申请时间', r.retire_requested_at ? fmtDateTime(r.retire_requested_at) : ''), row('注销理由', r.retire_reason)),
        h('p.hint', '审核通过前，该单元仍在已审核清单中，公众版照常显示。'))
      : null,
    note ? h('p.hint.review-note', note) : null);
}

/** renderRegion fills panel with a region's grade, counts and the explanation of its colour. */
export function renderRegion(panel, feature, { onClose, levelLabel }) {
  const p = feature.properties;
  const g = grade(p.grade);
  const counts = p.counts || { red: p.red, orange: p.orange, yellow: p.yellow, blue: p.blue };
  const total = ['red', 'orange', 'yellow', 'blue'].reduce((n, c) => n + (Number(counts[c]) || 0), 0);
  replace(
    panel,
    h('div.panel-head',
      h('div.panel-title', badge(p.grade, true), h('h2.region-name', p.name)),
      h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: onClose }, '×')),
    h('div.panel-body',
      h('section.grade-box', { style: { borderColor: g.outline, background: g.fill + '22' } },
        h('div.grade-line', h('strong', `区域总体风险：${g.label}`)),
        h('p.explanation', p.explanation || '—'),
        h('dl.kv-list',
          h('div.kv', h('dt', '区划代码'), h('dd', p.code)),
          h('div.kv', h('dt', '层级'), h('dd', levelLabel(p.level))),
          p.area_km2 ? h('div.kv', h('dt', '面积'), h('dd', `${p.area_km2} km²`)) : null,
          p.population ? h('div.kv', h('dt', '人口'), h('dd', `${p.population.toLocaleString('zh-CN')} 人`)) : null,
          p.index != null ? h('div.kv', h('dt', '加权指数'), h('dd', String(p.index))) : null,
          p.rule ? h('div.kv', h('dt', '判定规则'), h('dd', ruleLabel(p.rule))) : null)),
      h('section', h('h3', '各等级风险单元数'),
        h('table.counts-table',
          h('tbody',
            ['red', 'orange', 'yellow', 'blue'].map((c) =>
              h('tr', { dataset: { grade: c } }, h('td', badge(c, true)), h('td.num', String(counts[c] ?? 0)),
                h('td.bar-cell', h('span.bar', { style: { width: total ? `${(100 * (counts[c] || 0)) / total}%` : '0', background: grade(c).fill, borderColor: grade(c).outline } })))),
            h('tr.total', h('td', '合计'), h('td.num', String(total)), h('td'))))),
    ),
  );
}

/**
 * gradePair shows the unit's inherent grade (固有风险等级, from its assessment) and its
 * current grade (当前风险等级, raised by open hidden dangers), each in its colour.
 */
function gradePair(p) {
  const inherent = p.inherent_grade || p.grade;
  const current = p.current_grade || p.grade;
  return h('div.grade-pair', { dataset: { inherent: inherent || '', current: current || '', raised: inherent !== current ? '1' : '0' } },
    h('span.muted', '固有风险等级'), badge(inherent, true),
    h('span.muted', '当前风险等级'), badge(current, true));
}

/** reviewState says 从未复核, 逾期未复核 N 天 or 下次复核 date. */
function reviewState(p) {
  const late = overdueDays(p.next_review_due);
  const state = p.review_state || (!p.assessed_at ? 'never' : late ? 'overdue' : 'current');
  const text = state === 'never' ? '从未复核' : state === 'overdue' ? `逾期未复核 ${late.toLocaleString('zh-CN')} 天` : `下次复核 ${fmtDate(p.next_review_due)}`;
  return h('span.review-state', { dataset: { state } }, text);
}

/**
 * unitHazards lists the unit's hidden dangers (ctx.hazards, GET /units/{id}/hazards), open
 * ones first, with 登记隐患 (ctx.onNewHazard) where the user may register one.
 */
function unitHazards(p, ctx) {
  if (!ctx.hazards && !ctx.onNewHazard) return null;
  const fs = ((ctx.hazards && ctx.hazards.features) || []).map((f) => ({ ...f.properties, id: f.properties.id ?? f.id }));
  fs.sort((a, b) => (a.status === 'closed') - (b.status === 'closed') || (b.level === 'major') - (a.level === 'major'));
  const open = fs.filter((x) => x.status !== 'closed').length;
  return h('section.unit-hazards', { dataset: { open: String(p.open_hazards ?? open) } },
    h('h3', '隐患', h('span.count', ` 未销号 ${open} · 共 ${ctx.hazards ? ctx.hazards.numberMatched ?? fs.length : '—'}`)),
    ctx.hazards == null ? h('p.muted', '无法加载该单元的隐患。') : fs.length ? h('ul', fs.map((x) =>
      h('li', { dataset: { id: x.id, status: x.status, level: x.level } },
        h('button.linklike', { type: 'button', onclick: () => ctx.onHazard && ctx.onHazard(x.id) }, x.code),
        h('span.hz-level', { dataset: { level: x.level } }, HAZARD_LEVEL[x.level] || x.level),
        h('span.hz-status', { dataset: { status: x.status } }, x.status_label || HAZARD_STATUS[x.status] || x.status),
        x.overdue ? h('span.hz-overdue-badge', `逾期 ${x.overdue_days || 0} 天`) : h('span.muted', `期限 ${fmtDate(x.deadline)}`),
        h('span.hz-desc', x.description || '')))) : h('p.muted', '该单元没有登记隐患。'),
    ctx.onNewHazard ? h('button.btn.btn-small', { type: 'button', dataset: { action: 'new-hazard' }, onclick: ctx.onNewHazard }, '＋ 登记隐患') : null);
}
