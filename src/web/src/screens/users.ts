// Administrators: the console's accounts; disable and enable. Accounts are created and given
// roles with `visitpay users` (the password and TOTP secret are shown once, in the terminal).
import { api, norwegian } from '../api';
import { announce, confirmDialog, h } from '../dom';
import { osloDateTime } from '../format';
import type { Me } from '../main';

interface User { username: string; roles: string[]; clinic_ids: string[]; second_factor: boolean; disabled: boolean; created_at: string }

const roleText: Record<string, string> = { finance: 'Økonomi', dpo: 'Personvernombud', ops: 'Drift', admin: 'Administrator' };

export async function usersPage(main: HTMLElement, me: Me): Promise<void> {
  const users = await api<{ items: User[] }>('GET', '/v1/console/users');
  main.append(
    h('h1', {}, 'Brukere'),
    h('p', {}, 'Nye brukere, roller og passord: ', h('code', {}, 'visitpay users add|roles|reset-password'), ' på serveren.'),
    h('table', {},
      h('caption', {}, 'Personlige kontoer'),
      h('thead', {}, h('tr', {}, ['Brukernavn', 'Roller', 'Klinikker', 'To-trinn', 'Opprettet', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, users.items.map((u) => h('tr', {},
        h('td', {}, u.username),
        h('td', {}, u.roles.map((r) => roleText[r] ?? r).join(', ')),
        h('td', {}, u.clinic_ids.length ? u.clinic_ids.join(', ') : 'Alle'),
        h('td', {}, u.second_factor ? 'Ja' : 'Nei'),
        h('td', {}, osloDateTime(u.created_at)),
        h('td', {}, u.disabled ? 'Sperret' : 'Aktiv'),
        h('td', {}, u.username === me.username ? '' : h('button', {
          type: 'button', class: u.disabled ? '' : 'danger', onclick: () => toggle(u),
        }, `${u.disabled ? 'Åpne' : 'Sperr'} ${u.username}`)))))));
}

async function toggle(u: User): Promise<void> {
  const ok = await confirmDialog({
    title: u.disabled ? 'Åpne kontoen?' : 'Sperre kontoen?', danger: !u.disabled,
    text: u.disabled ? `${u.username} kan logge inn igjen.` : `${u.username} logges ut med en gang og kan ikke logge inn.`,
    confirm: u.disabled ? 'Åpne' : 'Sperr',
  });
  if (!ok) return;
  try {
    await api('POST', `/v1/console/users/${encodeURIComponent(u.username)}/${u.disabled ? 'enable' : 'disable'}`, {});
    announce(`${u.username} er ${u.disabled ? 'åpnet' : 'sperret'}.`);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } catch (e) {
    announce(norwegian(e));
  }
}
