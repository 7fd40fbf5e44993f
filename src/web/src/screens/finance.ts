// Finance's review queue: filters, keyset paging, totals, age, bulk approve, CSV export and
// keyboard use (j/k or arrows to move, Enter to open, a to approve, x to select).
import { api, norwegian } from '../api';
import { announce, clear, confirmDialog, h } from '../dom';
import { daysSince, flagText, nok, osloDateTime, statusText } from '../format';
import type { Me } from '../main';
import type { InvoicePage } from './types';

const AGE_WARNING_DAYS = 25;  // a month since the visit is near: the invoice should be out by then
const PAGE_SIZE = 25;

interface Filters { status: string; clinic_id: string; from: string; to: string; flag: string }

// The filters live in this module only while the page is open (not in the URL or storage).
let filters: Filters = { status: 'pending_review', clinic_id: '', from: '', to: '', flag: '' };
let cursors: string[] = [];  // the cursor of each page shown so far ('' = first)

function query(cursor = ''): string {
  const q = new URLSearchParams();
  if (filters.status) q.set('status', filters.status);
  if (filters.clinic_id) q.set('clinic_id', filters.clinic_id);
  if (filters.from) q.set('from', filters.from);
  if (filters.to) q.set('to', filters.to);
  if (filters.flag) q.set('flag', filters.flag);
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

export async function financeQueue(main: HTMLElement, me: Me): Promise<void> {
  main.appendChild(h('h1', {}, 'Fakturakontroll'));
  main.appendChild(filterForm(me, () => { cursors = ['']; void load(main); }));
  main.appendChild(h('section', { id: 'queue', 'aria-label': 'Fakturaer' }));
  main.appendChild(shortcutHelp());
  if (cursors.length === 0) cursors = [''];
  await load(main);
}

function filterForm(me: Me, apply: () => void): HTMLElement {
  const statusSelect = h('select', { id: 'f-status', name: 'status' },
    h('option', { value: '' }, 'Alle'),
    Object.entries(statusText).map(([v, t]) => h('option', { value: v, selected: filters.status === v }, t)));
  const clinic = me.clinic_ids.length > 0
    ? h('select', { id: 'f-clinic', name: 'clinic_id' }, h('option', { value: '' }, 'Alle mine'),
      me.clinic_ids.map((c) => h('option', { value: c, selected: filters.clinic_id === c }, c)))
    : h('input', { id: 'f-clinic', name: 'clinic_id', value: filters.clinic_id, placeholder: 'f.eks. oslo-sentrum' });
  const flagSelect = h('select', { id: 'f-flag', name: 'flag' },
    h('option', { value: '' }, 'Alle'),
    Object.entries(flagText).map(([v, t]) => h('option', { value: v, selected: filters.flag === v }, t)));
  const form = h('form', { class: 'filters', 'aria-label': 'Filtre' },
    h('div', { class: 'field' }, h('label', { for: 'f-status' }, 'Status'), statusSelect),
    h('div', { class: 'field' }, h('label', { for: 'f-clinic' }, 'Klinikk'), clinic),
    h('div', { class: 'field' }, h('label', { for: 'f-from' }, 'Fra dato'),
      h('input', { id: 'f-from', name: 'from', type: 'date', value: filters.from })),
    h('div', { class: 'field' }, h('label', { for: 'f-to' }, 'Til og med dato'),
      h('input', { id: 'f-to', name: 'to', type: 'date', value: filters.to })),
    h('div', { class: 'field' }, h('label', { for: 'f-flag' }, 'Merknad'), flagSelect),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Vis'),
      h('a', { id: 'csv', class: 'button', href: `/v1/invoices/export.csv?${query()}`, download: 'fakturaer.csv' },
        'Last ned CSV')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    filters = {
      status: String(d.get('status') ?? ''),
      clinic_id: String(d.get('clinic_id') ?? '').trim(),
      from: String(d.get('from') ?? ''),
      to: String(d.get('to') ?? ''),
      flag: String(d.get('flag') ?? ''),
    };
    (form.querySelector('#csv') as HTMLAnchorElement).href = `/v1/invoices/export.csv?${query()}`;
    apply();
  });
  return form;
}

async function load(main: HTMLElement): Promise<void> {
  const section = main.querySelector('#queue') as HTMLElement;
  clear(section);
  const cursor = cursors[cursors.length - 1] ?? '';
  let page: InvoicePage;
  try {
    page = await api<InvoicePage>('GET', `/v1/invoices?${query(cursor)}&limit=${PAGE_SIZE}`);
  } catch (e) {
    section.appendChild(h('p', { class: 'error', role: 'alert' }, norwegian(e)));
    return;
  }
  section.appendChild(h('p', { class: 'totals', id: 'totals' },
    `${page.totals.count} fakturaer, til sammen ${nok(page.totals.total_ore)}`));
  const rows = page.items.map((inv) => {
    const age = daysSince(inv.visit_at ?? inv.created_at);
    const old = age >= AGE_WARNING_DAYS;
    return h('tr', { dataset: { id: inv.id, status: inv.status }, tabindex: -1 },
      h('td', {}, inv.status === 'pending_review'
        ? h('input', { type: 'checkbox', class: 'pick', value: inv.id, 'aria-label': `Velg faktura ${inv.number} (${inv.clinic_id})` })
        : ''),
      h('td', {}, h('a', { href: `#/faktura/${inv.id}` }, `${inv.kind === 'credit_note' ? 'Kreditnota' : 'Faktura'} ${inv.number}`)),
      h('td', {}, inv.clinic_id),
      h('td', {}, statusText[inv.status] ?? inv.status),
      h('td', { class: 'num' }, nok(inv.total_ore)),
      h('td', {}, osloDateTime(inv.visit_at ?? inv.created_at)),
      h('td', { class: old ? 'age old' : 'age' }, `${age} d`, old ? h('span', { class: 'tag warn' }, 'Nær en måned') : ''),
      h('td', {}, Object.entries(inv.flags).filter(([, on]) => on)
        .map(([f]) => h('span', { class: 'tag' }, flagText[f] ?? f))));
  });
  const table = h('table', { class: 'invoices' },
    h('caption', {}, 'Fakturaer, eldste først'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Velg')),
      h('th', { scope: 'col' }, 'Nummer'), h('th', { scope: 'col' }, 'Klinikk'),
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'num' }, 'Beløp'),
      h('th', { scope: 'col' }, 'Besøk'), h('th', { scope: 'col' }, 'Alder'),
      h('th', { scope: 'col' }, 'Merknader'))),
    h('tbody', {}, rows));
  section.appendChild(rows.length ? table : h('p', {}, 'Ingen fakturaer med disse filtrene.'));
  const outcome = h('div', { id: 'bulk-outcome' });
  section.appendChild(h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'primary', onclick: () => bulkApprove(main, outcome) }, 'Godkjenn valgte'),
    cursors.length > 1 ? h('button', { type: 'button', onclick: () => { cursors.pop(); void load(main); } }, 'Forrige side') : '',
    page.next_cursor ? h('button', { type: 'button', onclick: () => { cursors.push(page.next_cursor!); void load(main); } }, 'Neste side') : ''));
  section.appendChild(outcome);
  bindKeys(main, table);
}

async function bulkApprove(main: HTMLElement, outcome: HTMLElement): Promise<void> {
  const ids = [...main.querySelectorAll<HTMLInputElement>('input.pick:checked')].map((c) => c.value);
  if (ids.length === 0) {
    announce('Velg minst én faktura først.');
    outcome.textContent = 'Velg minst én faktura først.';
    return;
  }
  const ok = await confirmDialog({
    title: 'Godkjenne fakturaer?',
    text: `${ids.length} fakturaer blir utstedt og sendt til kunden.`,
    confirm: `Godkjenn ${ids.length}`,
  });
  if (!ok) return;
  try {
    const res = await api<{ results: { id: string; status?: string; error?: { status: number; type: string } }[] }>(
      'POST', '/v1/invoices/approve', { ids });
    const numbers = new Map([...main.querySelectorAll<HTMLTableRowElement>('tr[data-id]')]
      .map((r) => [r.dataset.id!, r.querySelector('a')?.textContent ?? r.dataset.id!]));
    clear(outcome);
    const good = res.results.filter((r) => !r.error).length;
    outcome.appendChild(h('h2', {}, `Resultat: ${good} av ${res.results.length} godkjent`));
    outcome.appendChild(h('ul', { class: 'outcomes' }, res.results.map((r) => h('li', {
      class: r.error ? 'failed' : 'ok',
    }, `${numbers.get(r.id) ?? r.id}: ${r.error
      ? 'ikke godkjent (' + (r.error.status === 409 ? 'har feil status' : r.error.status === 404 ? 'finnes ikke' : 'feil ' + r.error.status) + ')'
      : 'godkjent – ' + (statusText[r.status ?? ''] ?? r.status)}`))));
    announce(`${good} av ${res.results.length} fakturaer godkjent`);
    await load(main);  // the queue as it is now; the outcome stays under it
    main.querySelector('#bulk-outcome')?.replaceWith(outcome);
  } catch (e) {
    outcome.textContent = norwegian(e);
  }
}

function bindKeys(main: HTMLElement, table: HTMLElement): void {
  const rows = () => [...table.querySelectorAll<HTMLTableRowElement>('tbody tr')];
  let index = -1;
  const select = (i: number) => {
    const all = rows();
    if (all.length === 0) return;
    index = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, n) => r.classList.toggle('selected', n === index));
    all[index].focus();
  };
  const handler = async (ev: KeyboardEvent) => {
    if (!document.body.contains(table)) {
      document.removeEventListener('keydown', handler);
      return;
    }
    const target = ev.target as HTMLElement;
    if (['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(target.tagName) && !target.classList.contains('pick')) return;
    if (document.querySelector('dialog[open]')) return;
    const row = rows()[index];
    if (ev.key === 'j' || ev.key === 'ArrowDown') { ev.preventDefault(); select(index + 1); }
    else if (ev.key === 'k' || ev.key === 'ArrowUp') { ev.preventDefault(); select(index - 1); }
    else if (ev.key === 'Enter' && row) { ev.preventDefault(); location.hash = `#/faktura/${row.dataset.id}`; }
    else if (ev.key === 'x' && row) {
      const box = row.querySelector<HTMLInputElement>('input.pick');
      if (box) box.checked = !box.checked;
    } else if (ev.key === 'a' && row && row.dataset.status === 'pending_review') {
      ev.preventDefault();
      const label = row.querySelector('a')?.textContent ?? '';
      const ok = await confirmDialog({ title: `Godkjenne ${label}?`, text: 'Fakturaen blir utstedt og sendt til kunden.', confirm: 'Godkjenn' });
      if (!ok) return;
      try {
        await api('POST', `/v1/invoices/${row.dataset.id}/approve`, {});
        announce(`${label} godkjent`);
        await load(main);
      } catch (e) {
        announce(norwegian(e));
      }
    }
  };
  document.addEventListener('keydown', handler);
}

function shortcutHelp(): HTMLElement {
  const keys: [string, string][] = [
    ['j / ↓', 'neste faktura'], ['k / ↑', 'forrige faktura'], ['Enter', 'åpne fakturaen'],
    ['a', 'godkjenne fakturaen (med bekreftelse)'], ['x', 'velge for samlet godkjenning'],
  ];
  return h('section', { class: 'shortcuts', 'aria-labelledby': 'shortcuts-title' },
    h('h2', { id: 'shortcuts-title' }, 'Hurtigtaster'),
    h('dl', {}, keys.map(([k, t]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, t)])));
}
