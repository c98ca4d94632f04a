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
