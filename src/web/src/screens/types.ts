export interface Invoice {
  id: string;
  kind: string;
  number: number;
  status: string;
  clinic_id: string;
  session_id: string;
  reason: string;
  kid: string | null;
  total_ore: number;
  fee_ore: number;
  issue_date: string | null;
  due_date: string | null;
  created_at: string;
  visit_at?: string;
  flags: Record<string, boolean>;
}

export interface InvoicePage {
  items: Invoice[];
  next_cursor: string | null;
  totals: { count: number; total_ore: number; currency: string };
}

export interface InvoiceDetail extends Invoice {
  paid_ore?: number;
  open_ore?: number;
  overpaid_ore?: number;
  seller: { name: string; org_number: string; bank_account: string };
  buyer: { status: string; name: string | null; street: string | null; postal_code: string | null; city: string | null; email: string | null };
  delivery: { reference: string | null; delivered_at: string | null; problem: string | null; problem_at: string | null };
  lines: { line_no: number; description: string; amount_ore: number; vat_ore: number; is_fee: boolean }[];
  history: { at: string; actor: string; action: string; from_status: string | null; to_status: string | null; detail: string | null }[];
  credits?: { invoice_id: string; number: number | null };
}
