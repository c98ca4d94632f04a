// The unit details panel: every field of the register row, the grade and why.
import { h, replace } from '../lib/dom.js';
import { badge, grade } from '../lib/grades.js';
import { STATUS, CONTROL_GROUPS, HAZARD_LEVELS, METHODS, fmtDate, fmtDateTime, GEOM_LABELS, ruleLabel } from '../lib/labels.js';

/** statusBadge is a unit's review status (草稿/待审核/已审核/已退役) as a small label. */
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
  ctx = { ...ctx, rejectBox };
  replace(
    panel,
    h(
      'div.panel-head',
      h('div.panel-title', badge(p.grade, true), statusBadge((ctx.review && ctx.review.status) || p.status), h('h2.unit-name', { title: p.name }, p.name)),
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
        h('p.explanation', ex.text || '—'),
        h('dl.kv-list',
          row('评估方法', METHODS[ex.method || a.method] || ex.method || a.method || '—'),
          row('评估输入', inputs),
          row('判定规则', ruleLabel(ex.rule) || '—'),
          p.direct_major_reason ? row('直接判定理由', p.direct_major_reason) : null,
        ),
      ),
      reviewSection(p, ctx.review),
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
        row('下次复核', p.next_review_due ? fmtDate(p.next_review_due) : ''),
        row('版本', p.version != null ? `第 ${p.version} 版 · 更新于 ${fmtDate(p.updated_at)}` : ''),
      )),
    ),
  );
}

/** reviewButtons are 提交审核, 审核通过 and 退回, as the review's can_* flags allow. */
function reviewButtons(p, ctx) {
  const r = ctx.review;
  if (!r || !ctx.onReview || !ctx.editable) return null;
  const status = r.status || p.status;
  const out = [];
  if (status === 'draft' && (r.can_submit ?? r.can_edit)) {
    out.push(h('button.btn.btn-small', { type: 'button', dataset: { action: 'submit' }, onclick: () => ctx.onReview('submit') }, '提交审核'));
  }
  if (status === 'submitted' && r.can_approve) {
    out.push(h('button.btn.btn-small.btn-ok', { type: 'button', dataset: { action: 'approve' }, onclick: () => ctx.onReview('approve') }, '审核通过'));
    out.push(h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'reject' }, onclick: () => openReject(ctx) }, '退回'));
  }
  return out;
}

function openReject(ctx) {
  const box = ctx.rejectBox;
  const reason = h('textarea#reject-reason', { rows: 2, maxlength: 500, placeholder: '退回理由（可选），如：评估依据不足' });
  replace(box,
    h('label', { for: 'reject-reason' }, '退回理由'),
    reason,
    h('div.reject-actions',
      h('button.btn.btn-small.btn-warn', { type: 'button', dataset: { action: 'confirm-reject' }, onclick: () => ctx.onReview('reject', reason.value.trim()) }, '确认退回'),
      h('button.btn.btn-small', { type: 'button', onclick: () => (box.hidden = true) }, '取消')));
  box.hidden = false;
  reason.focus();
}

/** reviewSection says where the unit stands in review and which version the public sees. */
function reviewSection(p, r) {
  if (!r) return null;
  const who = (name, at) => (name ? `${name}${at ? ' · ' + fmtDateTime(at) : ''}` : '');
  const status = r.status || p.status;
  let note = null;
  if (status !== 'approved' && r.approved_version) note = `公众版显示已审核的第 ${r.approved_version} 版，本版审核通过并发布后更新。`;
  else if (status !== 'approved' && !r.approved_version) note = '尚无已审核的版本：审核通过并发布后才在公众版显示。';
  else if (status === 'approved') note = '已审核：发布后在公众版显示。';
  if (status === 'submitted' && !r.can_approve && r.can_edit) note = `${note || ''}待评估专家审核（作者本人不能审核自己的修改）。`;
  return h('section.review', { dataset: { status } }, h('h3', '审核'),
    h('dl.kv-list',
      row('状态', statusBadge(status)),
      row('当前版本', r.version != null ? `第 ${r.version} 版` : ''),
      row('编写人', r.updated_by || r.created_by),
      row('提交人', who(r.submitted_by, r.submitted_at)),
      row('审核人', who(r.reviewed_by, r.reviewed_at)),
      row('已审核版本', r.approved_version ? `第 ${r.approved_version} 版` : '无')),
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
