// One invoice: PDF preview, lines, flags, history; approve, void (with reason), credit and mark
// paid, each behind a confirmation naming what will happen.
import { api, norwegian } from '../api';
import { announce, confirmDialog, h } from '../dom';
import { flagText, nok, osloDate, osloDateTime, reasonText, statusText } from '../format';
import type { Me } from '../main';
import type { InvoiceDetail } from './types';

const actionText: Record<string, string> = {
  create: 'Opprettet', approve: 'Godkjent', void: 'Annullert', credit: 'Kreditert',
  mark_paid: 'Markert betalt', deliver: 'Levert', flag: 'Merknad', paid_by_link: 'Betalt med lenke',
  delivery_failed: 'Levering feilet',
};

export async function invoicePage(main: HTMLElement, _me: Me, id: string): Promise<void> {
  const inv = await api<InvoiceDetail>('GET', `/v1/invoices/${encodeURIComponent(id)}`);
  const label = `${inv.kind === 'credit_note' ? 'Kreditnota' : 'Faktura'} ${inv.number}`;
  document.title = `${label} – visitpay`;
  const message = h('p', { id: 'action-result', role: 'status' });
  main.append(
    h('p', {}, h('a', { href: '#/fakturaer' }, '← Tilbake til køen')),
    h('h1', {}, label, ' ', h('span', { class: `status s-${inv.status}` }, statusText[inv.status] ?? inv.status)),
    message,
    actions(inv, message),
    h('div', { class: 'invoice-grid' },
      h('section', { 'aria-labelledby': 'facts' },
        h('h2', { id: 'facts' }, 'Opplysninger'),
        h('dl', { class: 'facts' },
          fact('Klinikk', inv.clinic_id),
          fact('Årsak', reasonText[inv.reason] ?? inv.reason),
          fact('Beløp', nok(inv.total_ore)),
          fact('Gebyr', nok(inv.fee_ore)),
          inv.paid_ore ? fact('Innbetalt', nok(inv.paid_ore)) : null,
          inv.paid_ore && inv.open_ore ? fact('Gjenstår', nok(inv.open_ore)) : null,
          inv.overpaid_ore ? fact('Innbetalt for mye', nok(inv.overpaid_ore)) : null,
          fact('KID', inv.kid ?? '–'),
          fact('Fakturadato', osloDate(inv.issue_date)),
          fact('Forfall', osloDate(inv.due_date)),
          fact('Opprettet', osloDateTime(inv.created_at)),
          fact('Levert', inv.delivery.delivered_at ? `${osloDateTime(inv.delivery.delivered_at)} (${inv.delivery.reference?.startsWith('email:') ? 'e-post' : 'post'})` : '–'),
          inv.delivery.problem ? fact('Leveringsproblem', `${inv.delivery.problem} (${osloDateTime(inv.delivery.problem_at)})`) : null,
          fact('Kunde', inv.buyer.status === 'held' ? `${inv.buyer.name ?? ''}, ${inv.buyer.postal_code ?? ''} ${inv.buyer.city ?? ''}` : 'Slettet etter oppbevaringstiden'),
          inv.credits ? fact('Krediterer', h('a', { href: `#/faktura/${inv.credits.invoice_id}` }, `Faktura ${inv.credits.number ?? ''}`)) : null),
        h('h2', {}, 'Merknader'),
        flags(inv),
        h('h2', { id: 'lines' }, 'Linjer'),
        h('table', { 'aria-labelledby': 'lines' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Beskrivelse'), h('th', { scope: 'col', class: 'num' }, 'Herav mva.'), h('th', { scope: 'col', class: 'num' }, 'Beløp'))),
          h('tbody', {}, inv.lines.map((l) => h('tr', {},
            h('td', {}, l.description, l.is_fee ? h('span', { class: 'tag' }, 'Gebyr') : ''),
            h('td', { class: 'num' }, l.vat_ore ? nok(l.vat_ore) : 'Fritatt'),
            h('td', { class: 'num' }, nok(l.amount_ore))))),
          h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, 'Sum'), h('td', { class: 'num' }, nok(inv.lines.reduce((s, l) => s + l.vat_ore, 0))), h('td', { class: 'num' }, nok(inv.total_ore))))),
        h('h2', { id: 'history' }, 'Historikk'),
        h('table', { 'aria-labelledby': 'history' },
          h('thead', {}, h('tr', {}, ['Tid', 'Hendelse', 'Av', 'Detaljer'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, inv.history.map((e) => h('tr', {},
            h('td', {}, osloDateTime(e.at)),
            h('td', {}, actionText[e.action] ?? e.action, e.to_status ? ` → ${statusText[e.to_status] ?? e.to_status}` : ''),
            h('td', {}, e.actor),
            h('td', {}, e.detail ? (reasonText[e.detail] ?? e.detail) : '')))))),
      h('section', { 'aria-labelledby': 'pdf', class: 'pdf' },
        h('h2', { id: 'pdf' }, 'PDF'),
        h('p', {}, h('a', { href: `/v1/invoices/${inv.id}/pdf`, target: '_blank', rel: 'noopener' }, 'Åpne PDF i ny fane')),
        h('iframe', { src: `/v1/invoices/${inv.id}/pdf`, title: `PDF av ${label}`, class: 'pdf-frame' }))));
}

function fact(term: string, value: Node | string): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)];
}

function flags(inv: InvoiceDetail): HTMLElement {
  const on = Object.entries(inv.flags).filter(([, v]) => v);
  if (on.length === 0) return h('p', {}, 'Ingen');
  return h('ul', { class: 'flags' }, on.map(([f]) => h('li', {}, h('span', { class: 'tag' }, flagText[f] ?? f))));
}

function actions(inv: InvoiceDetail, message: HTMLElement): HTMLElement {
  const run = async (path: string, body: unknown, done: string) => {
    try {
      const result = await api<{ id: string }>('POST', `/v1/invoices/${inv.id}/${path}`, body);
      announce(done);
      if (path === 'credit' && result?.id) location.hash = `#/faktura/${result.id}`;
      else window.dispatchEvent(new HashChangeEvent('hashchange'));
      window.setTimeout(() => {
        const m = document.getElementById('action-result');
        if (m) m.textContent = done;
      }, 100);
    } catch (e) {
      message.textContent = norwegian(e);
      message.className = 'error';
    }
  };
  const buttons: HTMLElement[] = [];
  if (inv.status === 'pending_review') {
    buttons.push(h('button', { type: 'button', class: 'primary', onclick: async () => {
      if (await confirmDialog({ title: 'Godkjenne fakturaen?', text: `Faktura ${inv.number} på ${nok(inv.total_ore)} blir utstedt og sendt til kunden.`, confirm: 'Godkjenn' })) {
        await run('approve', {}, 'Fakturaen er godkjent og sendt.');
      }
    } }, 'Godkjenn'));
    buttons.push(h('button', { type: 'button', class: 'danger', onclick: async () => {
      const data = await confirmDialog({
        title: 'Annullere fakturaen?', danger: true, confirm: 'Annuller',
        text: `Faktura ${inv.number} blir annullert. Nummeret blir ikke brukt igjen.`,
        fields: [h('div', { class: 'field' }, h('label', { for: 'void-reason' }, 'Begrunnelse (påkrevd)'),
          h('textarea', { id: 'void-reason', name: 'reason', required: true, maxlength: 500, rows: 3 }))],
      });
      if (data) await run('void', { reason: String(data.get('reason') ?? '') }, 'Fakturaen er annullert.');
    } }, 'Annuller'));
  }
  if (inv.kind === 'invoice' && ['issued', 'partially_paid', 'paid'].includes(inv.status)) {
    buttons.push(h('button', { type: 'button', onclick: async () => {
      const data = await confirmDialog({
        title: 'Kreditere fakturaen?', confirm: 'Lag kreditnota',
        text: `Det lages en kreditnota på ${nok(-inv.total_ore)} som sendes til kunden.`,
        fields: [h('div', { class: 'field' }, h('label', { for: 'credit-reason' }, 'Begrunnelse'),
          h('textarea', { id: 'credit-reason', name: 'reason', maxlength: 500, rows: 3 }))],
      });
      if (data) await run('credit', { reason: String(data.get('reason') ?? '') }, 'Kreditnota er laget.');
    } }, 'Krediter'));
  }
  if (inv.status === 'issued' || inv.status === 'partially_paid') {
    buttons.push(h('button', { type: 'button', onclick: async () => {
      const data = await confirmDialog({
        title: 'Markere som betalt?', confirm: 'Marker betalt',
        text: `Faktura ${inv.number} markeres som betalt (f.eks. innbetalt til konto med KID).`,
        fields: [
          h('div', { class: 'field' }, h('label', { for: 'paid-on' }, 'Betalt dato'),
            h('input', { id: 'paid-on', name: 'paid_on', type: 'date' })),
          h('div', { class: 'field' }, h('label', { for: 'paid-ref' }, 'Referanse'),
            h('input', { id: 'paid-ref', name: 'reference', maxlength: 500 }))],
      });
      if (!data) return;
      const body: Record<string, string> = {};
      if (data.get('paid_on')) body.paid_on = String(data.get('paid_on'));
      if (data.get('reference')) body.reference = String(data.get('reference'));
      await run('mark-paid', body, 'Fakturaen er markert som betalt.');
    } }, 'Marker betalt'));
  }
  return h('div', { class: 'actions', role: 'group', 'aria-label': 'Handlinger' }, buttons);
}
