// Just enough of the xlsx format for the browser tests to fill in the server's own import
// template (GET /api/v1/templates/units.xlsx): read its zip, find the header row of the
// 风险清单 sheet, add rows of cells after it and zip it again. Node's zlib does the
// deflating; no spreadsheet library is needed.
import { inflateRawSync, deflateRawSync } from 'node:zlib';

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(buf) {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = CRC[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** readZip returns the entries of a zip as a Map of name → contents (Buffer), in order. */
export function readZip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip');
  const n = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map();
  for (let i = 0; i < n; i++) {
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + csize);
    out.set(name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** writeZip writes entries (a Map of name → Buffer or string) as a deflated zip. */
export function writeZip(entries) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const [name, v] of entries) {
    const data = Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
    const comp = deflateRawSync(data);
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(0x0800, 6); // UTF-8 names
    head.writeUInt16LE(8, 8);
    head.writeUInt32LE(0x00210000, 10); // 1980-01-01 00:00
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(comp.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(nameBuf.length, 26);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(0x0800, 8);
    cen.writeUInt16LE(8, 10);
    cen.writeUInt32LE(0x00210000, 12);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(comp.length, 20);
    cen.writeUInt32LE(data.length, 24);
    cen.writeUInt16LE(nameBuf.length, 28);
    cen.writeUInt32LE(offset, 42);
    locals.push(head, nameBuf, comp);
    central.push(cen, nameBuf);
    offset += 30 + nameBuf.length + comp.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.size, 8);
  end.writeUInt16LE(entries.size, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const unxml = (s) => s.replace(/&#(x?)([0-9a-f]+);/gi, (_, x, n) => String.fromCodePoint(parseInt(n, x ? 16 : 10))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const xml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function colName(i) {
  let s = '';
  for (i += 1; i > 0; i = Math.floor((i - 1) / 26)) s = String.fromCharCode(65 + ((i - 1) % 26)) + s;
  return s;
}

/** The first worksheet's part (the 风险清单 sheet of the template). */
function firstSheet(zip) {
  const wb = zip.get('xl/workbook.xml').toString('utf8');
  const rid = /<sheet\b[^>]*\br:id="([^"]+)"/.exec(wb)[1];
  const rels = zip.get('xl/_rels/workbook.xml.rels').toString('utf8');
  const target = new RegExp(`<Relationship\\b[^>]*Id="${rid}"[^>]*Target="([^"]+)"`).exec(rels) || new RegExp(`<Relationship\\b[^>]*Target="([^"]+)"[^>]*Id="${rid}"`).exec(rels);
  const t = target[1].replace(/^\/?(xl\/)?/, '');
  return 'xl/' + t;
}

/**
 * fillTemplate adds rows to the template (a Buffer of the xlsx): each row an object of
 * header → value (numbers are written as numbers, everything else as text), from the row
 * after the header on. It returns the new workbook as a Buffer.
 */
export function fillTemplate(template, rows) {
  const zip = readZip(template);
  const shared = [...zip.get('xl/sharedStrings.xml').toString('utf8').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
    unxml([...m[1].matchAll(/<t[^>]*>([^<]*)<\/t>/g)].map((t) => t[1]).join('')));
  const part = firstSheet(zip);
  let sheet = zip.get(part).toString('utf8');
  // The header row is the one whose cells hold 风险编号.
  let headerRow = null;
  const cols = new Map();
  for (const m of sheet.matchAll(/<row\b[^>]*\br="(\d+)"[^>]*>([\s\S]*?)<\/row>/g)) {
    const cells = [...m[2].matchAll(/<c\b([^>]*)>(?:<v>([^<]*)<\/v>)?/g)].map(([, attrs, v]) => {
      const col = /\br="([A-Z]+)\d+"/.exec(attrs)[1];
      const t = (/\bt="(\w+)"/.exec(attrs) || [])[1];
      return [col, t === 's' ? shared[Number(v)] : v];
    });
    const named = cells;
    if (named.some(([, v]) => v === '风险编号')) {
      headerRow = Number(m[1]);
      for (const [col, v] of named) if (v) cols.set(v, col);
      break;
    }
  }
  if (!headerRow) throw new Error('the template has no header row');
  let out = '';
  rows.forEach((row, i) => {
    const r = headerRow + 1 + i;
    const cells = [];
    for (const [header, v] of Object.entries(row)) {
      const col = cols.get(header);
      if (!col) throw new Error(`the template has no column ${header}`);
      if (v == null || v === '') continue;
      cells.push([col, v]);
    }
    cells.sort((a, b) => a[0].length - b[0].length || a[0].localeCompare(b[0]));
    out += `<row r="${r}">` + cells.map(([col, v]) => (typeof v === 'number'
      ? `<c r="${col}${r}"><v>${v}</v></c>`
      : `<c r="${col}${r}" t="inlineStr"><is><t xml:space="preserve">${xml(v)}</t></is></c>`)).join('') + '</row>';
  });
  const end = new RegExp(`(<row\\b[^>]*\\br="${headerRow}"[^>]*>[\\s\\S]*?</row>)`);
  sheet = sheet.replace(end, `$1${out}`);
  const last = headerRow + rows.length;
  sheet = sheet.replace(/<dimension ref="[^"]*"\s*(\/>|><\/dimension>)/, `<dimension ref="A1:${colName(cols.size)}${last}"/>`);
  zip.set(part, sheet);
  return writeZip(zip);
}

/** cellComments lists the comments of a workbook (the marked copy's notes on bad cells) as {ref, text}. */
export function cellComments(buf) {
  const zip = readZip(buf);
  const out = [];
  for (const [name, data] of zip) {
    if (!/^xl\/comments\d*\.xml$/.test(name)) continue;
    for (const m of data.toString('utf8').matchAll(/<comment\b[^>]*\bref="([A-Z]+\d+)"[^>]*>([\s\S]*?)<\/comment>/g)) {
      out.push({ ref: m[1], text: unxml([...m[2].matchAll(/<t[^>]*>([^<]*)<\/t>/g)].map((t) => t[1]).join('')) });
    }
  }
  return out;
}

/** workbookText is every text a workbook holds (shared strings, inline strings, comments), joined. */
export function workbookText(buf) {
  const out = [];
  for (const [name, data] of readZip(buf)) {
    if (!/^xl\/.*\.xml$/.test(name)) continue;
    for (const m of data.toString('utf8').matchAll(/<t[^>]*>([^<]*)<\/t>/g)) out.push(unxml(m[1]));
  }
  return out.join('\n');
}
