// Chinese labels of the register's fixed vocabularies.

export const STATUS = { draft: '草稿', submitted: '待审核', approved: '已审核', retired: '已注销' };

export const ROLES = { admin: '管理员', expert: '评估专家', department: '行业部门' };

export const OUTCOMES = { ok: '成功', denied: '拒绝', failed: '失败' };

export const CONTROL_GROUPS = [
  { code: 'engineering', label: '工程技术措施' },
  { code: 'management', label: '管理措施' },
  { code: 'training', label: '培训教育措施' },
  { code: 'ppe', label: '个体防护措施' },
  { code: 'emergency', label: '应急处置措施' },
];

export const HAZARD_LEVELS = { 1: '一级', 2: '二级', 3: '三级', 4: '四级' };

export const METHODS = { LS: '风险矩阵法（R = L × S）', LEC: '作业条件危险性分析法（D = L × E × C）' };

export const FIELD_LABELS = {
  code: '编号',
  name: '名称',
  category: '行业领域',
  sub_category: '子类',
  region_code: '所属区域',
  address: '地址',
  accident_types: '事故类型',
  major_hazard_source: '重大危险源',
  'major_hazard_source.level': '重大危险源等级',
  major_risk_factors: '主要风险因素',
  assessment: '评估',
  'assessment.method': '评估方法',
  'assessment.likelihood': '可能性 L',
  'assessment.severity': '严重性 S',
  'assessment.l': 'L',
  'assessment.e': 'E',
  'assessment.c': 'C',
  direct_major_reason: '直接判定理由',
  responsible_department: '监管部门',
  responsible_unit: '责任单位',
  contact_person: '联系人',
  contact_phone: '联系电话',
  influence_radius_m: '影响半径',
  status: '状态',
  geometry: '位置',
  assessed_by: '评估单位',
  assessed_at: '评估时间',
  next_review_due: '下次复核',
  inherent_grade: '固有风险等级',
  conditions: '等级上调条件',
  open_hazards: '未销号隐患',
  identified_at: '全面辨识日期',
};

/**
 * fmtDate writes a day as 2026-11-20: a calendar date (next_review_due) as it is, an instant
 * (assessed_at, updated_at) as its day in China (UTC+8), where the register's days are counted.
 */
export function fmtDate(s) {
  if (!s) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return s;
  return chinaDay(s) || String(s);
}

/** chinaDay is the calendar day (YYYY-MM-DD) in China (UTC+8) of an instant, or ''. */
export function chinaDay(iso) {
  const t = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  return Number.isNaN(t.getTime()) ? '' : t.toISOString().slice(0, 10);
}

/**
 * overdueDays is how many days ago a 下次复核 date (YYYY-MM-DD) passed, in China, or 0 when
 * it has not (or there is none).
 */
export function overdueDays(due, now = new Date()) {
  if (!due) return 0;
  const today = chinaDay(now.toISOString());
  const d = String(due).slice(0, 10);
  if (!today || d >= today) return 0;
  return Math.round((Date.parse(today) - Date.parse(d)) / 86400000);
}

/** fmtDateTime writes a time as 2026-11-26 17:28 in the browser's time zone. */
export function fmtDateTime(s, seconds = false) {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}${seconds ? ':' + p(d.getSeconds()) : ''}`;
}

export const GEOM_LABELS = { Point: '点', LineString: '线', Polygon: '面', MultiPoint: '多点', MultiLineString: '多线', MultiPolygon: '多面' };

const GRADE_WORDS = { red: '重大（红）', orange: '较大（橙）', yellow: '一般（黄）', blue: '低（蓝）' };
const GRADE_SHORT = { red: '重大', orange: '较大', yellow: '一般', blue: '低' };

/**
 * ruleLabel says a grading rule in Chinese. The API keeps rules as stable machine text
 * ("R ≥ 20 → red", "index ≥ 1.5 → orange", "≥ 3 units of orange or higher → orange").
 */
export function ruleLabel(rule) {
  if (!rule) return '';
  return String(rule)
    .replace(/^direct determination/, '直接判定')
    .replace(/^highest unit grade$/, '按最高单元等级')
    .replace(/^count$/, '未达到任何等级的数量门槛')
    .replace(/^≥ (\S+) units of (red|orange|yellow|blue) or higher/, (m, n, g) => `${GRADE_SHORT[g]}及以上单元不少于 ${n} 个`)
    .replace(/^index\b/, '加权指数')
    .replace(/→ (red|orange|yellow|blue)$/, (m, g) => `→ ${GRADE_WORDS[g]}`);
}

// ---- hidden dangers (隐患) and public reports (举报) ----

export const HAZARD_STATUS = { registered: '登记', reported: '上报', rectifying: '整改中', accepted: '验收', closed: '销号' };
export const HAZARD_LEVEL = { general: '一般隐患', major: '重大隐患' };
export const HAZARD_SOURCE = { inspection: '检查', self_inspection: '自查', public_report: '举报', monitoring: '监测' };
export const SUPERVISION_BY = { city: '市级挂牌督办', district: '区级挂牌督办' };
export const REPORT_STATUS = { received: '已受理', converted: '已转为隐患', dismissed: '不予立案' };
/** FIVE are the fields of a major hidden danger's 五落实 (治理方案). */
export const FIVE = [
  { code: 'responsibility', label: '责任落实' },
  { code: 'measures', label: '措施落实' },
  { code: 'funds', label: '资金落实' },
  { code: 'time_limit', label: '时限落实' },
  { code: 'plan', label: '预案落实' },
];
export const HAZARD_FIELDS = {
  unit_id: '风险单元', level: '隐患等级', description: '隐患描述', location: '隐患位置', found_at: '发现时间', found_by: '发现人',
  source: '隐患来源', responsible_unit: '整改责任单位', responsible_person: '整改责任人', measures: '整改措施', deadline: '整改期限',
  five: '五落实', 'five.responsibility': '责任落实', 'five.measures': '措施落实', 'five.funds': '资金落实', 'five.time_limit': '时限落实', 'five.plan': '预案落实',
  category: '类别', lon: '位置', lat: '位置', contact: '联系方式', photo: '照片', note: '说明', reason: '理由',
};
/** REVIEW_STATE is a unit's review state (review_state of its feature). */
export const REVIEW_STATE = { never: '从未复核', current: '按期', overdue: '逾期未复核' };
/** localDay is today's date (YYYY-MM-DD) in China. */
export function today() {
  return chinaDay(new Date().toISOString());
}
