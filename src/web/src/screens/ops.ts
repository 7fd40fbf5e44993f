// Operators: dead letters (with retry), sessions past their state's bound, provider errors.
import { api, norwegian } from '../api';
import { announce, confirmDialog, h } from '../dom';
import { osloDateTime } from '../format';
import type { Me } from '../main';

interface Dead { id: number; session_id: string; kind: string; attempts: number; last_error: string | null; updated_at: string }
interface Overdue { session_id: string; state: string; since: string; clinic_id: string; link_error: string | null }
interface KindErrors { kind: string; failing: number; dead: number; attempts: number; last_error: string | null }

export async function opsPage(main: HTMLElement, _me: Me): Promise<void> {
  main.appendChild(h('h1', {}, 'Drift'));
  const [dead, overdue, errors] = await Promise.all([
    api<{ items: Dead[] }>('GET', '/v1/outbox/dead'),
    api<{ items: Overdue[]; more: boolean }>('GET', '/v1/ops/overdue-sessions'),
    api<{ since: string; items: KindErrors[] }>('GET', '/v1/ops/provider-errors'),
  ]);
  main.appendChild(section('dead-title', `Døde meldinger (${dead.items.length})`,
    dead.items.length === 0 ? h('p', {}, 'Ingen døde meldinger.') : h('table', {},
      h('caption', {}, 'Arbeid som ga opp etter gjentatte forsøk'),
      h('thead', {}, h('tr', {}, ['Id', 'Type', 'Forsøk', 'Siste feil', 'Sist endret', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, dead.items.map((d) => h('tr', {},
        h('td', {}, String(d.id)), h('td', {}, d.kind), h('td', { class: 'num' }, String(d.attempts)),
        h('td', {}, d.last_error ?? ''), h('td', {}, osloDateTime(d.updated_at)),
        h('td', {}, h('button', { type: 'button', onclick: () => retry(d) }, `Prøv igjen (${d.id})`))))))));
  main.appendChild(section('overdue-title', `Økter over tidsgrensen (${overdue.items.length}${overdue.more ? '+' : ''})`,
    overdue.items.length === 0 ? h('p', {}, 'Alle åpne økter er innenfor tidsgrensen.') : h('table', {},
      h('caption', {}, 'Økter som har vært for lenge i samme tilstand'),
      h('thead', {}, h('tr', {}, ['Økt', 'Tilstand', 'Siden', 'Klinikk', 'Lenkefeil'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, overdue.items.map((s) => h('tr', {},
        h('td', {}, h('code', {}, s.session_id)), h('td', {}, s.state), h('td', {}, osloDateTime(s.since)),
        h('td', {}, s.clinic_id), h('td', {}, s.link_error ?? '')))))));
  main.appendChild(section('errors-title', 'Feil mot leverandører siste døgn',
    errors.items.length === 0 ? h('p', {}, 'Ingen feil siste døgn.') : h('table', {},
      h('caption', {}, `Utgående arbeid med feil siden ${osloDateTime(errors.since)}`),
      h('thead', {}, h('tr', {}, ['Type', 'Feiler nå', 'Døde', 'Forsøk', 'Siste feil'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, errors.items.map((k) => h('tr', {},
        h('td', {}, k.kind), h('td', { class: 'num' }, String(k.failing)), h('td', { class: 'num' }, String(k.dead)),
        h('td', { class: 'num' }, String(k.attempts)), h('td', {}, k.last_error ?? '')))))));
}

function section(id: string, title: string, body: HTMLElement): HTMLElement {
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), body);
}

async function retry(d: Dead): Promise<void> {
  const ok = await confirmDialog({ title: 'Prøve igjen?', text: `«${d.kind}» (${d.id}) legges tilbake i køen med nye forsøk.`, confirm: 'Prøv igjen' });
  if (!ok) return;
  try {
    await api('POST', `/v1/outbox/${d.id}/retry`, {});
    announce(`Melding ${d.id} er lagt tilbake i køen.`);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } catch (e) {
    announce(norwegian(e));
  }
}
