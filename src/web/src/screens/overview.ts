// Per clinic and period: what became of the check-outs, from the database (GET /v1/overview),
// with a chart of the daily conversion (inline SVG built here; no chart library).
import { api } from '../api';
import { clear, h } from '../dom';
import { nok, osloDate } from '../format';
import type { Me } from '../main';

interface Overview {
  checkouts: number; paid: { card: number; vipps: number; other: number };
  invoiced: { with_fee: number; without_fee: number }; cancelled: number; open: number;
  conversion_permille: number; median_seconds_to_pay: number | null; open_amount_ore: number;
  days: { day: string; checkouts: number; paid: number }[];
}

function isoDay(d: Date): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Oslo' }).format(d);  // YYYY-MM-DD
}

export async function overviewPage(main: HTMLElement, me: Me): Promise<void> {
  main.appendChild(h('h1', {}, 'Oversikt'));
  const to = isoDay(new Date());
  const from = isoDay(new Date(Date.now() - 29 * 86_400_000));
  const out = h('div', { id: 'overview-result' });
  const form = h('form', { class: 'filters', 'aria-label': 'Periode og klinikk' },
    h('div', { class: 'field' }, h('label', { for: 'o-clinic' }, 'Klinikk'),
      me.clinic_ids.length
        ? h('select', { id: 'o-clinic', name: 'clinic_id' }, h('option', { value: '' }, 'Alle mine'), me.clinic_ids.map((c) => h('option', { value: c }, c)))
        : h('input', { id: 'o-clinic', name: 'clinic_id', placeholder: 'alle' })),
    h('div', { class: 'field' }, h('label', { for: 'o-from' }, 'Fra dato'), h('input', { id: 'o-from', name: 'from', type: 'date', value: from })),
    h('div', { class: 'field' }, h('label', { for: 'o-to' }, 'Til og med dato'), h('input', { id: 'o-to', name: 'to', type: 'date', value: to })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Vis')));
  const load = async () => {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v)) q.set(k, String(v));
    clear(out);
    out.appendChild(render(await api<Overview>('GET', `/v1/overview?${q}`)));
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); void load(); });
  main.append(form, out);
  await load();
}

function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1).replace('.', ',')} t`;
  return `${(seconds / 86_400).toFixed(1).replace('.', ',')} døgn`;
}

function render(o: Overview): HTMLElement {
  const paid = o.paid.card + o.paid.vipps + o.paid.other;
  const stats: [string, string][] = [
    ['Utsjekker', String(o.checkouts)],
    ['Betalt med kort', String(o.paid.card)],
    ['Betalt med Vipps', String(o.paid.vipps)],
    ['Betalt på annen måte', String(o.paid.other)],
    ['Fakturert med gebyr', String(o.invoiced.with_fee)],
    ['Fakturert uten gebyr', String(o.invoiced.without_fee)],
    ['Kansellert', String(o.cancelled)],
    ['Åpne', String(o.open)],
    ['Konvertering (betalt med lenke)', `${(o.conversion_permille / 10).toFixed(1).replace('.', ',')} %`],
    ['Median tid til betaling', duration(o.median_seconds_to_pay)],
    ['Utestående beløp', nok(o.open_amount_ore)],
  ];
  return h('div', {},
    h('dl', { class: 'stats' }, stats.map(([t, v]) => h('div', {}, h('dt', {}, t), h('dd', {}, v)))),
    h('p', { class: 'visually-hidden' }, `${paid} av ${o.checkouts} betalt med lenke.`),
    chart(o.days));
}

function chart(days: Overview['days']): HTMLElement {
  const title = 'Daglig konvertering (andel betalt med lenke)';
  if (days.length === 0) return h('p', {}, 'Ingen utsjekker i perioden.');
  const ns = 'http://www.w3.org/2000/svg';
  const width = 640;
  const height = 200;
  const bar = Math.max(4, Math.floor((width - 40) / days.length) - 2);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 30}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', 'chart-title');
  svg.setAttribute('class', 'chart');
  days.forEach((d, i) => {
    const share = d.checkouts ? d.paid / d.checkouts : 0;
    const rect = document.createElementNS(ns, 'rect');
    const barHeight = Math.round(share * height);
    rect.setAttribute('x', String(30 + i * (bar + 2)));
    rect.setAttribute('y', String(height - barHeight));
    rect.setAttribute('width', String(bar));
    rect.setAttribute('height', String(barHeight));
    const tip = document.createElementNS(ns, 'title');
    tip.textContent = `${osloDate(d.day)}: ${Math.round(share * 100)} % (${d.paid} av ${d.checkouts})`;
    rect.appendChild(tip);
    svg.appendChild(rect);
  });
  for (const [y, label] of [[0, '100 %'], [height / 2, '50 %'], [height, '0 %']] as [number, string][]) {
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', '0');
    t.setAttribute('y', String(y + 4));
    t.textContent = label;
    svg.appendChild(t);
  }
  return h('figure', {},
    h('figcaption', { id: 'chart-title' }, title),
    svg,
    h('details', {}, h('summary', {}, 'Tallene i tabell'),
      h('table', {}, h('thead', {}, h('tr', {}, ['Dag', 'Utsjekker', 'Betalt', 'Andel'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, days.map((d) => h('tr', {}, h('td', {}, osloDate(d.day)), h('td', { class: 'num' }, String(d.checkouts)),
          h('td', { class: 'num' }, String(d.paid)), h('td', { class: 'num' }, `${d.checkouts ? Math.round((d.paid / d.checkouts) * 100) : 0} %`)))))));
}
