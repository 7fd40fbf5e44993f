// The data protection officer's page: access (GDPR Art. 15) and erasure (Art. 17) by national
// id. The number is typed into a form and sent in the request body only: never in the URL, never
// in browser storage; the field is emptied once the answer is shown and the form has
// autocomplete off, so the browser does not remember it either.
import { api, norwegian } from '../api';
import { announce, clear, confirmDialog, h } from '../dom';
import { nok, osloDate, osloDateTime, statusText } from '../format';
import type { Me } from '../main';

interface ClassData { status: string; purged_at?: string; [field: string]: unknown }
interface AccessSession {
  session_id: string; clinic_id: string; state: string; amount_ore: number; created_at: string;
  lines: { line_no: number; amount_ore: number; description: { status: string; text?: string } }[];
  invoices: { id: string; kind: string; number: number; status: string; issue_date: string | null }[];
  personal_data: { transient: ClassData; retained: ClassData };
  purges: { classes: string[]; rule: string; by: string; at: string }[];
}
interface ErasureSession {
  session_id: string; state: string; destroyed: string[];
  kept: { class: string; fields: string[]; rule: string; legal_basis: string; until: string | null }[];
}

const classText: Record<string, string> = {
  transient: 'Midlertidige opplysninger', retained: 'Fakturaopplysninger', email: 'E-postadresse',
};
const fieldText: Record<string, string> = {
  national_id: 'Fødselsnummer', phone: 'Telefon', payment_url: 'Betalingslenke', name: 'Navn', address: 'Adresse',
  email: 'E-post', line_descriptions: 'Hva besøket gjaldt',
};
const stateText: Record<string, string> = {
  pending: 'Startet', awaiting_payment: 'Venter på betaling', invoicing: 'Faktureres', paid: 'Betalt',
  invoiced: 'Fakturert', cancelled: 'Kansellert',
};

export async function privacyPage(main: HTMLElement, _me: Me): Promise<void> {
  main.appendChild(h('h1', {}, 'Personvern'));
  const result = h('section', { id: 'privacy-result', 'aria-live': 'polite' });
  const input = h('input', {
    id: 'national-id', name: 'national_id', inputmode: 'numeric', autocomplete: 'off',
    required: true, pattern: '[0-9]{11}', maxlength: 11, 'aria-describedby': 'nid-help',
  });
  const form = h('form', { class: 'privacy-form', autocomplete: 'off', 'aria-labelledby': 'request-title' },
    h('h2', { id: 'request-title' }, 'Innsyn og sletting'),
    h('div', { class: 'field' },
      h('label', { for: 'national-id' }, 'Fødselsnummer (11 siffer)'), input,
      h('p', { id: 'nid-help', class: 'help' }, 'Sendes bare i forespørselen. Feltet tømmes når svaret vises.')),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', value: 'access', class: 'primary' }, 'Vis innsyn'),
      h('button', { type: 'submit', value: 'erasure', class: 'danger' }, 'Slett opplysninger')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const which = ((ev as SubmitEvent).submitter as HTMLButtonElement | null)?.value ?? 'access';
    const nationalId = input.value.replace(/\s/g, '');
    if (!/^[0-9]{11}$/.test(nationalId)) {
      clear(result);
      result.appendChild(h('p', { class: 'error', role: 'alert' }, 'Fødselsnummeret må ha 11 siffer.'));
      input.focus();
      return;
    }
    if (which === 'erasure') {
      const ok = await confirmDialog({
        title: 'Slette personopplysninger?', danger: true, confirm: 'Slett',
        text: 'Alt som ikke må oppbevares etter loven, slettes nå og kan ikke hentes tilbake.',
      });
      if (!ok) return;
    }
    clear(result);
    try {
      if (which === 'access') {
        const r = await api<{ count: number; sessions: AccessSession[] }>('POST', '/v1/privacy/access', { national_id: nationalId });
        showAccess(result, r.sessions);
      } else {
        const r = await api<{ count: number; sessions: ErasureSession[] }>('POST', '/v1/privacy/erasure', { national_id: nationalId });
        showErasure(result, r.sessions);
      }
      announce('Svaret vises under skjemaet.');
    } catch (e) {
      result.appendChild(h('p', { class: 'error', role: 'alert' }, norwegian(e)));
    } finally {
      input.value = '';
    }
  });
  main.append(form, result, h('section', { id: 'privacy-check', 'aria-labelledby': 'check-title' }));
  await showCheck(main.querySelector('#privacy-check') as HTMLElement);
}

function address(a: Record<string, string>): string {
  return `${a.street ?? ''}, ${a.postal_code ?? ''} ${a.city ?? ''}${a.country && a.country !== 'NO' ? `, ${a.country}` : ''}`;
}

function classView(name: string, c: ClassData): HTMLElement {
  if (c.status === 'held') {
    const fields = Object.entries(c).filter(([k, v]) => k !== 'status' && v !== null);
    return h('div', { class: 'class held' },
      h('h4', {}, `${classText[name] ?? name}: lagret`),
      h('dl', {}, fields.map(([k, v]) => [h('dt', {}, fieldText[k] ?? k),
        h('dd', {}, k === 'address' ? address(v as Record<string, string>) : String(v))])));
  }
  if (c.status === 'purged') {
    return h('div', { class: 'class purged' }, h('h4', {}, `${classText[name] ?? name}: slettet ${osloDateTime(c.purged_at)}`));
  }
  return h('div', { class: 'class' }, h('h4', {}, `${classText[name] ?? name}: finnes ikke`));
}

function showAccess(el: HTMLElement, sessions: AccessSession[]): void {
  el.appendChild(h('h2', {}, `Innsyn: ${sessions.length} besøk`));
  if (sessions.length === 0) el.appendChild(h('p', {}, 'Ingen opplysninger er lagret om denne personen.'));
  for (const s of sessions) {
    el.appendChild(h('article', { class: 'card' },
      h('h3', {}, `Besøk ${osloDateTime(s.created_at)} – ${s.clinic_id}`),
      h('p', {}, `${stateText[s.state] ?? s.state}, ${nok(s.amount_ore)}`),
      classView('transient', s.personal_data.transient),
      classView('retained', s.personal_data.retained),
      s.lines.length ? h('ul', { class: 'lines' }, s.lines.map((l) => h('li', {},
        `${l.description.status === 'held' ? l.description.text ?? '' : '(beskrivelse slettet)'}, ${nok(l.amount_ore)}`))) : '',
      s.invoices.length ? h('p', {}, 'Fakturaer: ', s.invoices.map((i) =>
        `${i.kind === 'credit_note' ? 'Kreditnota' : 'Faktura'} ${i.number} (${statusText[i.status] ?? i.status}, ${osloDate(i.issue_date)})`).join('; ')) : '',
      s.purges.length ? h('ul', { class: 'purges' }, s.purges.map((p) => h('li', {},
        `Slettet ${p.classes.map((c) => classText[c] ?? c).join(' og ')} ${osloDateTime(p.at)} etter regel «${p.rule}» (${p.by})`))) : ''));
  }
}

function showErasure(el: HTMLElement, sessions: ErasureSession[]): void {
  el.appendChild(h('h2', {}, `Sletting: ${sessions.length} besøk`));
  if (sessions.length === 0) el.appendChild(h('p', {}, 'Ingen opplysninger var lagret om denne personen.'));
  for (const s of sessions) {
    el.appendChild(h('article', { class: 'card' },
      h('h3', {}, `Besøk (${stateText[s.state] ?? s.state})`),
      h('p', {}, s.destroyed.length
        ? `Slettet nå: ${s.destroyed.map((c) => classText[c] ?? c).join(', ')}`
        : 'Ingenting ble slettet nå.'),
      s.kept.length ? h('ul', { class: 'kept' }, s.kept.map((k) => h('li', {},
        `Beholdt: ${k.fields.map((f) => fieldText[f] ?? f).join(', ')} – ${k.legal_basis}` +
        (k.until ? ` (til ${osloDate(k.until)})` : '')))) : ''));
  }
}

async function showCheck(el: HTMLElement): Promise<void> {
  el.appendChild(h('h2', { id: 'check-title' }, 'Kontroll av oppbevaringstid'));
  try {
    const r = await api<{
      ok: boolean;
      rules: { rule: string; sessions: number }[];
      delivered_files: { folder: string; past_retention: number; files: number }[];
    }>('GET', '/v1/privacy/check');
    el.appendChild(h('p', { class: r.ok ? 'ok' : 'error', id: 'check-status' }, r.ok
      ? 'OK: ingen personopplysninger er lagret lenger enn reglene tillater.'
      : 'Avvik: personopplysninger er lagret lenger enn reglene tillater.'));
    el.appendChild(h('table', {},
      h('caption', {}, 'Besøk med opplysninger over tiden, per regel'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Regel'), h('th', { scope: 'col', class: 'num' }, 'Besøk'))),
      h('tbody', {}, r.rules.map((x) => h('tr', {}, h('td', {}, x.rule), h('td', { class: 'num' }, String(x.sessions)))))));
    el.appendChild(h('table', {},
      h('caption', {}, 'Brev og inkassofiler som ligger igjen i leveringsmappene etter fristen'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Mappe'), h('th', { scope: 'col', class: 'num' }, 'Over fristen'), h('th', { scope: 'col', class: 'num' }, 'Filer i alt'))),
      h('tbody', {}, r.delivered_files.map((x) => h('tr', {}, h('td', {}, x.folder),
        h('td', { class: 'num' }, String(x.past_retention)), h('td', { class: 'num' }, String(x.files)))))));
  } catch (e) {
    el.appendChild(h('p', { class: 'error' }, norwegian(e)));
  }
}
