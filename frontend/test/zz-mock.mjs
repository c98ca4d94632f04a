import { startServer, launch, openInternalMap, screenshot } from './harness.mjs';
const srv = await startServer();
const browser = await launch();
const view = (id, over = {}) => ({ id, code: `YH-2026-00000${id}`, unit_id: 1, unit_code: 'CJ-WHP-0001', unit_name: '某化工<b>厂</b>', category: 'hazardous_chemicals', region_code: '530481001', department: '应急局',
  level: 'major', level_label: '重大隐患', description: '报警器失效 <img src=x>', location: '东侧', found_at: '2026-11-01T00:00:00Z', found_by: '检查组', source: 'inspection', source_label: '检查',
  responsible_unit: '某公司', responsible_person: '张三', measures: '更换', deadline: '2026-11-30', five: { responsibility: 'a', measures: 'b', funds: 'c', time_limit: 'd', plan: 'e' },
  supervision: { by: 'city', by_label: '市级挂牌督办', at: '2026-11-02T00:00:00Z', user: 'admin', note: '限期' }, extension: { deadline: '2026-12-30', reason: '设备', requested_by: 'zhuanjia', requested_at: '2026-11-03T00:00:00Z' },
  status: 'rectifying', status_label: '整改中', overdue: true, overdue_days: 6, version: 3, created_by: 'admin', created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z',
  actions: ['accepted', 'extension', 'extension_decision', 'supervision', 'photo', 'edit'], ...over });
const fc = (vs) => ({ type: 'FeatureCollection', numberMatched: vs.length, numberReturned: vs.length, features: vs.map((v) => ({ type: 'Feature', id: v.id, geometry: { type: 'Point', coordinates: [102.9, 24.67] }, properties: v })) });
const cnt = (key) => ({ key, label: key, total: 10, closed: 3, accepted: 5, open: 7, open_major: 2, overdue: 3, due_soon: 1, supervised: 1, rectification_rate: 0.5 });
try {
  const page = await openInternalMap(browser, srv.url);
  const json = (route, body) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  await page.route('**/api/v1/hazards/stats**', (r) => json(r, { by: 'x', items: [cnt('应急局'), cnt('住建局')], totals: cnt('') }));
  await page.route('**/api/v1/hazards/1/history', (r) => json(r, { items: [{ id: 1, kind: 'created', by: 'admin', by_label: '管理员（市应急局）', at: '2026-11-01T00:00:00Z', note: '登记' }, { id: 2, kind: 'transition', from: 'registered', to: 'reported', from_label: '登记', to_label: '上报', by: 'admin', at: '2026-11-01T00:00:00Z', note: '<script>x</script>' }] }));
  await page.route('**/api/v1/hazards/1/photos', (r) => json(r, { items: [] }));
  await page.route('**/api/v1/hazards/1', (r) => json(r, { type: 'Feature', id: 1, geometry: { type: 'Point', coordinates: [102.9, 24.67] }, properties: view(1) }));
  await page.route('**/api/v1/hazards?**', (r) => json(r, fc([view(1), view(2, { level: 'general', overdue: false, supervision: null, status: 'closed' })])));
  await page.route('**/api/v1/units/*/hazards**', (r) => json(r, fc([view(1)])));
  await page.route('**/api/v1/supervision', (r) => json(r, { today: '2026-12-06', counts: { overdue: 3, due_soon: 1, supervised: 1, reviews_overdue: 2, reidentify_overdue: 0 }, overdue: [fc([view(1)]).features[0]], due_soon: [], supervised: [view(1)], reviews_overdue: [{ id: 1, code: 'CJ-1', name: 'x', grade: 'red', region_code: '530481', next_review_due: '2026-01-01' }], reidentify_overdue: [], by_department: [cnt('应急局')], by_region: [cnt('530481')] }));
  await page.route('**/api/v1/reports?**', (r) => json(r, { items: [{ id: 5, tracking_number: 'JB20261206ABCDEFGH', category: 'hazardous_chemicals', description: '<b>hi</b>', region_code: '530481001', department: '应急局', status: 'received', status_label: '已受理', created_at: '2026-12-06T01:00:00Z' }], total: 1 }));
  await page.route('**/api/v1/reports/5', (r) => json(r, { id: 5, tracking_number: 'JB20261206ABCDEFGH', lon: 102.92, lat: 24.67, category: 'hazardous_chemicals', description: '<b>hi</b>', contact: '138', region_code: '530481001', department: '应急局', status: 'received', created_at: '2026-12-06T01:00:00Z' }));
  await page.fill('.search-input', 'CJ-WHP-0002');
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer .unit-hazards li');
  await screenshot(page, 'zz-unit.png');
  await page.click('#drawer .unit-hazards li button.linklike');
  await page.waitForSelector('#hazards .hz-detail');
  await screenshot(page, 'zz-detail.png');
  await page.click('#hazards [data-action=to-accepted]');
  await page.waitForTimeout(200);
  await page.click('#hazards [data-action=extension]');
  await page.click('#hazards [data-action=supervise]');
  await page.click('#hazards [data-action=edit-hazard]');
  await page.waitForSelector('#hazards .hz-form');
  await screenshot(page, 'zz-edit.png');
  await page.click('#hazards .admin-tabs [data-tab=list]');
  await page.waitForSelector('#hazards table.hz-table tr[data-id]');
  await screenshot(page, 'zz-list.png');
  await page.click('#hazards .admin-tabs [data-tab=supervision]');
  await page.waitForSelector('#hazards .hz-count-cards');
  await screenshot(page, 'zz-sup.png');
  await page.click('#hazards .admin-tabs [data-tab=charts]');
  await page.waitForSelector('#hazards [data-chart=rate] canvas');
  await page.waitForTimeout(500);
  await screenshot(page, 'zz-charts.png');
  await page.click('#hazards .admin-tabs [data-tab=reports]');
  await page.waitForSelector('#hazards .hz-report-table tr[data-id]');
  await page.click('#hazards .hz-report-table tr[data-id]');
  await page.waitForSelector('#hazards .hz-report');
  await page.click('#hazards [data-action=convert]');
  await page.waitForTimeout(1500);
  await screenshot(page, 'zz-report.png');
  const mk = await page.$$('#hz-report-map path');
  console.log('mini map paths', mk.length);
  console.log('errors', page.errors, page.consoleErrors.slice(0, 5), page.csp);
} finally {
  await browser.close();
  await srv.stop();
}
