// Norwegian (bokmål) formats: amounts as "1 400,00 kr", dates and times in Oslo time.
const kroner = new Intl.NumberFormat('nb-NO', { maximumFractionDigits: 0 });
const dateTime = new Intl.DateTimeFormat('nb-NO', {
  timeZone: 'Europe/Oslo', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
});
const dateOnly = new Intl.DateTimeFormat('nb-NO', {
  timeZone: 'Europe/Oslo', day: '2-digit', month: '2-digit', year: 'numeric',
});

// Øre (integer) to "1 400,00 kr" (grouped with a no-break space); exact: kroner and øre are
// formatted as separate integers, never as a floating-point amount.
export function nok(ore: number): string {
  const negative = ore < 0;
  const abs = Math.abs(ore);
  const kr = kroner.format(Math.trunc(abs / 100));
  const oere = String(abs % 100).padStart(2, '0');
  return `${negative ? '−' : ''}${kr},${oere}\u00a0kr`;
}

export function osloDateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  return dateTime.format(new Date(iso));
}

// "2026-11-22" (a calendar date) or an instant, as "22.11.2026".
export function osloDate(iso: string | null | undefined): string {
  if (!iso) return '–';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
    const [y, m, d] = iso.split('-');
    return `${d}.${m}.${y}`;
  }
  return dateOnly.format(new Date(iso));
}

export function daysSince(iso: string, now = Date.now()): number {
  return Math.floor((now - new Date(iso).getTime()) / 86_400_000);
}

export const statusText: Record<string, string> = {
  pending_review: 'Til kontroll',
  issued: 'Sendt',
  partially_paid: 'Delvis betalt',
  paid: 'Betalt',
  credited: 'Kreditert',
  void: 'Annullert',
  sent_to_collection: 'Sendt til inkasso',
};

export const flagText: Record<string, string> = {
  paid_by_link: 'Betalt med lenke',
  credit_note_needed: 'Trenger kreditnota',
  paid_after_collection: 'Betalt etter inkasso – varsle byrået',
  sms_undeliverable: 'SMS ikke levert',
  link_failed: 'Lenke feilet',
  no_phone: 'Uten telefon',
  fee_not_disclosed: 'Gebyr ikke varslet',
  order_not_aborted: 'Ordre ikke avbrutt',
  delivery_problem: 'Levering feilet',
};

export const reasonText: Record<string, string> = {
  window_expired: 'Betalingsfristen gikk ut',
  no_phone: 'Ingen telefon',
  sms_rejected: 'SMS avvist',
  sms_undeliverable: 'SMS ikke levert',
  link_failed: 'Lenken kunne ikke sendes',
};
