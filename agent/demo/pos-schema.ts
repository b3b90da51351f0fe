import Database from 'better-sqlite3';

/**
 * A point-of-sale shaped database: customers, products, invoices and their lines, with the
 * indexes such an app has. Used by the demo, the benchmark and the tests, so all three exercise
 * the same kind of file a shop has.
 */
export const POS_SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, phone TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
  id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL, price_cents INTEGER NOT NULL, stock INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS invoices (
  id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), created_at TEXT NOT NULL,
  total_cents INTEGER NOT NULL, line_count INTEGER NOT NULL, note TEXT);
CREATE TABLE IF NOT EXISTS invoice_lines (
  id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL REFERENCES invoices(id), product_id INTEGER NOT NULL REFERENCES products(id),
  qty INTEGER NOT NULL, price_cents INTEGER NOT NULL, description TEXT);
CREATE INDEX IF NOT EXISTS invoice_lines_invoice ON invoice_lines(invoice_id);
CREATE INDEX IF NOT EXISTS invoices_created ON invoices(created_at);
CREATE INDEX IF NOT EXISTS invoices_customer ON invoices(customer_id);
`;

export const LINES_PER_INVOICE = 5;
const PRODUCTS = 2000;
const CUSTOMERS = 5000;
const WORDS = ['coffee', 'bread', 'milk', 'apple', 'cheese', 'tea', 'sugar', 'rice', 'butter', 'juice', 'soap', 'salt', 'honey', 'eggs', 'flour'];

/** A small seeded PRNG (mulberry32): the same seed builds the same database every time. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type DemoJournalMode = 'wal' | 'delete' | 'truncate' | 'persist';

export interface PosDbStats {
  invoices: number;
  bytes: number;
}

/**
 * Prepared statements that add one invoice with its lines in one transaction, the way a till
 * does at checkout. Shared by the generator and the concurrent writer of the tests and benchmark.
 */
export function invoiceWriter(db: Database.Database, seed = 1): () => number {
  const rand = rng(seed);
  const insInvoice = db.prepare('INSERT INTO invoices (customer_id, created_at, total_cents, line_count, note) VALUES (?, ?, 0, ?, ?)');
  const insLine = db.prepare('INSERT INTO invoice_lines (invoice_id, product_id, qty, price_cents, description) VALUES (?, ?, ?, ?, ?)');
  const setTotal = db.prepare('UPDATE invoices SET total_cents = ? WHERE id = ?');
  const pick = (): string => WORDS[Math.floor(rand() * WORDS.length)] ?? 'item';
  return () => {
    const customer = 1 + Math.floor(rand() * CUSTOMERS);
    const note = rand() < 0.2 ? `${pick()} ${pick()} order, call ${Math.floor(rand() * 1e9)}` : null;
    const id = Number(insInvoice.run(customer, new Date().toISOString(), LINES_PER_INVOICE, note).lastInsertRowid);
    let total = 0;
    for (let i = 0; i < LINES_PER_INVOICE; i++) {
      const qty = 1 + Math.floor(rand() * 5);
      const price = 50 + Math.floor(rand() * 5000);
      total += qty * price;
      insLine.run(id, 1 + Math.floor(rand() * PRODUCTS), qty, price, `${pick()} ${pick()} ${Math.floor(rand() * 1000)}g`);
    }
    setTotal.run(total, id);
    return id;
  };
}

/** Creates (or grows) a POS-like database at PATH until it is at least TARGET_BYTES big. */
export function createPosDatabase(path: string, targetBytes: number, journalMode: DemoJournalMode, onProgress?: (bytes: number) => void): PosDbStats {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = OFF');
    db.exec(POS_SCHEMA);
    const rand = rng(42);
    if (db.prepare('SELECT count(*) FROM products').pluck().get() === 0) {
      const insP = db.prepare('INSERT INTO products (sku, name, price_cents, stock) VALUES (?, ?, ?, ?)');
      const insC = db.prepare('INSERT INTO customers (name, email, phone, created_at) VALUES (?, ?, ?, ?)');
      db.transaction(() => {
        for (let i = 1; i <= PRODUCTS; i++) insP.run(`SKU-${String(i).padStart(6, '0')}`, `${WORDS[i % WORDS.length]} ${i}`, 50 + Math.floor(rand() * 5000), Math.floor(rand() * 500));
        for (let i = 1; i <= CUSTOMERS; i++) insC.run(`Customer ${i}`, `customer${i}@example.com`, `+1555${String(i).padStart(7, '0')}`, new Date(2020, 0, 1 + (i % 1500)).toISOString());
      })();
    }
    const addInvoice = invoiceWriter(db, 7);
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const size = (): number => Number(db.pragma('page_count', { simple: true })) * pageSize;
    const batch = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) addInvoice();
    });
    while (size() < targetBytes) {
      batch(5000);
      onProgress?.(size());
    }
    db.pragma(`journal_mode = ${journalMode}`);
    const invoices = Number(db.prepare('SELECT count(*) FROM invoices').pluck().get());
    return { invoices, bytes: size() };
  } finally {
    db.close();
  }
}

export interface PosConsistency {
  invoices: number;
  lines: number;
  /** Invoices whose lines are missing or do not add up to the total: a torn transaction. */
  broken: number;
}

/** Checks the invariant every committed checkout keeps: an invoice has all its lines and they sum to its total. */
export function checkPosConsistency(path: string): PosConsistency {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const invoices = Number(db.prepare('SELECT count(*) FROM invoices').pluck().get());
    const lines = Number(db.prepare('SELECT count(*) FROM invoice_lines').pluck().get());
    const broken = Number(db.prepare(`
      SELECT count(*) FROM invoices i
      LEFT JOIN (SELECT invoice_id, count(*) n, sum(qty * price_cents) s FROM invoice_lines GROUP BY invoice_id) l ON l.invoice_id = i.id
      WHERE coalesce(l.n, 0) <> i.line_count OR coalesce(l.s, 0) <> i.total_cents`).pluck().get());
    return { invoices, lines, broken };
  } finally {
    db.close();
  }
}
