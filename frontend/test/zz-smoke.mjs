import { startServer, launch, openInternalMap, openPage, screenshot } from './harness.mjs';
const srv = await startServer();
const browser = await launch();
try {
  const page = await openInternalMap(browser, srv.url);
  await page.fill('.search-input', 'CJ-WHP-0002');
  await page.waitForSelector('.search-item');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawer .unit-name');
  await page.waitForTimeout(500);
  console.log(await page.textContent('#drawer .grade-box'));
  console.log(await page.textContent('#drawer .unit-hazards').catch(() => 'no hazards section'));
  await screenshot(page, 'zz-unit.png');
  await page.click('#btn-hazards');
  await page.waitForSelector('#hazards .hz-list-status');
  await page.waitForTimeout(800);
  console.log('list:', await page.textContent('#hazards .hz-list-status'));
  for (const t of ['supervision', 'reports', 'charts']) {
    await page.click(`#hazards .admin-tabs [data-tab=${t}]`);
    await page.waitForTimeout(800);
    console.log(t, (await page.textContent('#hazards .hz-body')).slice(0, 200));
  }
  await page.click(`#hazards .admin-tabs [data-tab=list]`);
  await page.click('#hazards [data-action=new-hazard]');
  await page.fill('#hz-unit', 'CJ-WHP-0002');
  await page.waitForSelector('.hz-pick-list li[data-id]');
  await page.keyboard.press('Enter');
  await page.click('[data-action=save-hazard]');
  await page.waitForTimeout(800);
  console.log('form:', await page.textContent('.hz-form'));
  await screenshot(page, 'zz-form.png');
  console.log('errors', page.errors, page.consoleErrors.slice(0, 5), page.csp);
  const pub = await openPage(browser, srv.url, { as: null });
  await pub.goto(srv.url + '/public');
  await pub.waitForFunction(() => window.__riskmapInteractive, null, { timeout: 30_000 });
  await pub.click('#btn-report');
  await pub.waitForSelector('#report .report-form');
  await pub.mouse.click(700, 400);
  await pub.waitForTimeout(300);
  console.log(await pub.textContent('.report-place'));
  await pub.click('[data-action=submit-report]');
  await pub.waitForTimeout(300);
  console.log(await pub.textContent('#report'));
  await screenshot(pub, 'zz-public.png');
  console.log('pub errors', pub.errors, pub.csp);
} finally {
  await browser.close();
  await srv.stop();
}
