// The four grades, their names and colours. The colours are the deployment's, from
// GET /api/v1/grading; the defaults below only fill in until it answers or if it leaves one
// out, so every map, legend, chart and table uses the same four names and colours.

export const GRADE_CODES = ['red', 'orange', 'yellow', 'blue'];

const DEFAULTS = {
  red: { code: 'red', label: '重大风险', short_label: '重大', colour_name: '红', fill: '#e60012', outline: '#7a0009', rank: 1 },
  orange: { code: 'orange', label: '较大风险', short_label: '较大', colour_name: '橙', fill: '#ff8c00', outline: '#8a4b00', rank: 2 },
  yellow: { code: 'yellow', label: '一般风险', short_label: '一般', colour_name: '黄', fill: '#ffe100', outline: '#6b5d00', rank: 3 },
  blue: { code: 'blue', label: '低风险', short_label: '低', colour_name: '蓝', fill: '#1e6fd9', outline: '#0b3a78', rank: 4 },
};

const NONE = { code: '', label: '未评级', short_label: '未评级', colour_name: '', fill: '#9aa3ad', outline: '#4a525a', rank: 5 };

export const grades = { ...DEFAULTS };

const HEX = /^#[0-9a-f]{3,8}$/i;

/** setGrading takes the grades of GET /api/v1/grading. */
export function setGrading(grading) {
  for (const g of (grading && grading.grades) || []) {
    if (!DEFAULTS[g.code]) continue;
    grades[g.code] = {
      ...DEFAULTS[g.code],
      ...g,
      fill: HEX.test(g.fill) ? g.fill : DEFAULTS[g.code].fill,
      outline: HEX.test(g.outline) ? g.outline : DEFAULTS[g.code].outline,
    };
  }
}

export function grade(code) {
  return grades[code] || NONE;
}

/** highest is the most severe grade among those with a non-zero count in counts. */
export function highest(counts, allowed = GRADE_CODES) {
  return GRADE_CODES.find((g) => allowed.includes(g) && counts[g] > 0) || '';
}

/** swatch returns a coloured legend square for a grade (a DOM element). */
export function swatch(code, kind = 'box') {
  const g = grade(code);
  const el = document.createElement('span');
  el.className = `swatch swatch-${kind}`;
  el.style.background = g.fill;
  el.style.borderColor = g.outline;
  return el;
}

/** badge returns the grade's name on its colour. */
export function badge(code, long = false) {
  const g = grade(code);
  const el = document.createElement('span');
  el.className = `grade-badge grade-${g.code || 'none'}`;
  el.style.background = g.fill;
  el.style.borderColor = g.outline;
  el.style.color = code === 'yellow' || code === 'orange' ? '#1d1d1d' : '#fff';
  el.textContent = long ? g.label : g.short_label;
  return el;
}
