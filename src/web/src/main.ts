// The console's shell: who is logged in, the navigation their scopes allow, and a hash router
// (#/fakturaer, #/faktura/ID, ...). Nothing personal ever goes into the URL or browser storage.
import { api, ApiError, norwegian, setCsrfToken, whenSessionLost } from './api';
import { announce, clear, h } from './dom';
import { financeQueue } from './screens/finance';
import { invoicePage } from './screens/invoice';
import { privacyPage } from './screens/privacy';
import { opsPage } from './screens/ops';
import { usersPage } from './screens/users';
import { overviewPage } from './screens/overview';

export interface Me {
  username: string;
  scopes: string[];
  clinic_ids: string[];
  csrf_token: string;
  idle_timeout_seconds: number;
}

interface Screen {
  path: string;
  title: string;
  scope: string;
  render: (main: HTMLElement, me: Me, arg: string) => Promise<void> | void;
}

const screens: Screen[] = [
  { path: 'fakturaer', title: 'Fakturakontroll', scope: 'invoices:review', render: financeQueue },
  { path: 'oversikt', title: 'Oversikt', scope: 'invoices:review', render: overviewPage },
  { path: 'personvern', title: 'Personvern', scope: 'privacy', render: privacyPage },
  { path: 'drift', title: 'Drift', scope: 'ops', render: opsPage },
  { path: 'brukere', title: 'Brukere', scope: 'users:admin', render: usersPage },
];
const invoiceScreen: Screen = {
  path: 'faktura', title: 'Faktura', scope: 'invoices:review', render: invoicePage,
};

let me: Me | null = null;

function main(): HTMLElement {
  return document.getElementById('main') as HTMLElement;
}

function header(): void {
  const top = document.getElementById('top') as HTMLElement;
  clear(top);
  const brand = h('span', { class: 'brand' }, 'visitpay');
  if (!me) {
    top.appendChild(h('div', { class: 'bar' }, brand));
    return;
  }
  const current = location.hash.replace(/^#\/?/, '').split('/')[0];
  const links = screens
    .filter((s) => me!.scopes.includes(s.scope))
    .map((s) => h('li', {}, h('a', {
      href: `#/${s.path}`,
      'aria-current': s.path === current || (s.path === 'fakturaer' && current === 'faktura') ? 'page' : undefined,
    }, s.title)));
  top.appendChild(h('div', { class: 'bar' },
    brand,
    h('nav', { 'aria-label': 'Hovedmeny' }, h('ul', {}, links)),
    h('div', { class: 'who' },
      h('span', {}, `Innlogget som ${me.username}`),
      h('button', { type: 'button', onclick: () => logout(false) }, 'Logg ut'),
      h('button', { type: 'button', onclick: () => logout(true) }, 'Logg ut overalt'))));
}

async function logout(everywhere: boolean): Promise<void> {
  try {
    await api('POST', everywhere ? '/v1/console/logout-everywhere' : '/v1/console/logout', {});
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      announce(norwegian(e));
      return;
    }
  }
  me = null;
  setCsrfToken('');
  showLogin('Du er logget ut.');
}

function showLogin(message = ''): void {
  me = null;
  header();
  const m = main();
  clear(m);
  document.title = 'Logg inn – visitpay';
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' }, message);
  const totpField = h('div', { class: 'field', hidden: true },
    h('label', { for: 'totp' }, 'Engangskode fra autentiseringsappen'),
    h('input', { id: 'totp', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 }));
  const form = h('form', { class: 'login', novalidate: true },
    h('h1', {}, 'Logg inn'),
    error,
    h('div', { class: 'field' },
      h('label', { for: 'username' }, 'Brukernavn'),
      h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true })),
    h('div', { class: 'field' },
      h('label', { for: 'password' }, 'Passord'),
      h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    totpField,
    h('button', { type: 'submit', class: 'primary' }, 'Logg inn'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const body: Record<string, string> = {
      username: String(data.get('username') ?? '').trim(),
      password: String(data.get('password') ?? ''),
    };
    const totp = String(data.get('totp') ?? '').trim();
    if (totp) body.totp = totp;
    try {
      const who = await api<Me>('POST', '/v1/console/login', body);
      signedIn(who);
    } catch (e) {
      if (e instanceof ApiError && e.is('second-factor-required')) {
        totpField.hidden = false;
        error.textContent = norwegian(e);
        (document.getElementById('totp') as HTMLInputElement).focus();
        return;
      }
      error.textContent = norwegian(e);
      (document.getElementById('password') as HTMLInputElement).value = '';
    }
  });
  m.appendChild(form);
  (document.getElementById('username') as HTMLInputElement).focus();
}

function signedIn(who: Me): void {
  me = who;
  setCsrfToken(who.csrf_token);
  const first = screens.find((s) => who.scopes.includes(s.scope));
  const wanted = location.hash.replace(/^#\/?/, '');
  if (!wanted || wanted === 'logg-inn') location.hash = `#/${first ? first.path : 'ingen-tilgang'}`;
  else void route();
}

async function route(): Promise<void> {
  if (!me) return;
  const [path, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const screen = path === 'faktura' ? invoiceScreen : screens.find((s) => s.path === path);
  header();
  const m = main();
  clear(m);
  if (!screen || !me.scopes.includes(screen.scope)) {
    document.title = 'Ingen tilgang – visitpay';
    m.appendChild(h('h1', {}, 'Ingen tilgang'));
    m.appendChild(h('p', {}, screen
      ? 'Rollen din gir ikke tilgang til denne siden.'
      : 'Siden finnes ikke. Velg en side i menyen.'));
    return;
  }
  document.title = `${screen.title} – visitpay`;
  try {
    await screen.render(m, me, decodeURIComponent(rest.join('/')));
  } catch (e) {
    m.appendChild(h('p', { class: 'error', role: 'alert' }, norwegian(e)));
  }
  m.focus();
}

async function start(): Promise<void> {
  whenSessionLost(() => showLogin('Økten er utløpt eller avsluttet. Logg inn igjen.'));
  window.addEventListener('hashchange', () => void route());
  try {
    signedIn(await api<Me>('GET', '/v1/console/me'));
  } catch {
    showLogin();
  }
}

void start();
