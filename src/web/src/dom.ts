// A tiny DOM builder: h('button', { class: 'primary', onclick: f }, 'Godkjenn'). Text is always
// set as text (never parsed as HTML), so data from the API cannot inject markup.
export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// Tells screen-reader users what just happened (the page's polite live region).
export function announce(text: string): void {
  const live = document.getElementById('live');
  if (!live) return;
  live.textContent = '';
  window.setTimeout(() => {
    live.textContent = text;
  }, 50);
}

// A modal confirmation (native <dialog>: focus is trapped and Escape cancels). Resolves with the
// form's values when confirmed, null when cancelled.
export function confirmDialog(opts: {
  title: string;
  text: string;
  confirm: string;
  danger?: boolean;
  fields?: HTMLElement[];
}): Promise<FormData | null> {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog', class: 'dialog-form' },
      h('h2', { id: 'dialog-title' }, opts.title),
      h('p', {}, opts.text),
      opts.fields ?? [],
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'ok', class: opts.danger ? 'danger' : 'primary' }, opts.confirm),
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Avbryt')));
    const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' }, form);
    document.body.appendChild(dialog);
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok';
      const data = new FormData(form);
      dialog.remove();
      resolve(ok ? data : null);
    });
    dialog.showModal();
  });
}
