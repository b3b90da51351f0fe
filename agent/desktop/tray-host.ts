import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Whether a tray icon can be seen here. On Linux that needs a display and a tray host: either an
 * XEmbed system tray (the X selection _NET_SYSTEM_TRAY_Sn has an owner: trayer, stalonetray, xfce,
 * KDE's xembedsniproxy, …) or a StatusNotifierItem host on the session bus (KDE, GNOME with the
 * AppIndicator extension). Without one, the helper starts fine and its icon is simply invisible, so
 * this is asked before starting it. macOS and Windows always have a tray.
 */
export type TrayHostCheck = { ok: true; via: string } | { ok: false; reason: string };

export async function findTrayHost(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<TrayHostCheck> {
  if (platform === 'darwin' || platform === 'win32') return { ok: true, via: platform };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return { ok: false, reason: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  const [xembed, sni] = await Promise.all([
    env.DISPLAY ? x11SelectionOwned(env.DISPLAY, `_NET_SYSTEM_TRAY_S${screenOf(env.DISPLAY)}`, env).catch(() => null) : Promise.resolve(null),
    sessionBusHasName('org.kde.StatusNotifierWatcher', env),
  ]);
  if (xembed) return { ok: true, via: 'xembed system tray' };
  if (sni) return { ok: true, via: 'StatusNotifierWatcher' };
  // Neither could be asked (an X server over TCP, no dbus-send): better to try than to give up.
  if (xembed === null && sni === null) return { ok: true, via: 'unknown (could not check)' };
  return { ok: false, reason: `no tray host on display ${env.DISPLAY ?? env.WAYLAND_DISPLAY} (no system tray and no StatusNotifierWatcher)` };
}

function screenOf(display: string): number {
  const m = /:\d+\.(\d+)$/.exec(display);
  return m ? Number(m[1]) : 0;
}

/** The session bus has NAME (via dbus-send); null when that cannot be asked. */
function sessionBusHasName(name: string, env: NodeJS.ProcessEnv): Promise<boolean | null> {
  if (!env.DBUS_SESSION_BUS_ADDRESS) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', `string:${name}`],
      { env, timeout: 3000 }, (err, stdout) => {
        if (err) return resolve((err as NodeJS.ErrnoException).code === 'ENOENT' ? null : false);
        resolve(/boolean true/.test(stdout));
      });
  });
}

interface XauthEntry { family: number; address: string; number: string; name: string; data: Buffer }

function readXauthority(env: NodeJS.ProcessEnv): XauthEntry[] {
  let buf: Buffer;
  try {
    buf = readFileSync(env.XAUTHORITY ?? join(env.HOME ?? homedir(), '.Xauthority'));
  } catch {
    return [];
  }
  const entries: XauthEntry[] = [];
  let o = 0;
  const field = (): Buffer => {
    const n = buf.readUInt16BE(o);
    const v = buf.subarray(o + 2, o + 2 + n);
    o += 2 + n;
    return v;
  };
  try {
    while (o < buf.length) {
      const family = buf.readUInt16BE(o);
      o += 2;
      entries.push({ family, address: field().toString('latin1'), number: field().toString('latin1'), name: field().toString('latin1'), data: field() });
    }
  } catch {
    // A truncated file: use the entries read so far.
  }
  return entries;
}

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/**
 * Asks a local X server (Unix socket) whether the selection ATOM has an owner. A dozen lines of
 * the X11 protocol (setup, InternAtom, GetSelectionOwner) instead of a native X library or a
 * tool the till PC may not have. Null when the display is not a local one.
 */
export function x11SelectionOwned(display: string, atom: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 3000): Promise<boolean | null> {
  const m = /^(unix)?:(\d+)(\.\d+)?$/.exec(display);
  if (!m) return Promise.resolve(null);
  const number = m[2] as string;
  const cookie = readXauthority(env).find((e) => e.name === 'MIT-MAGIC-COOKIE-1' && (e.number === number || e.number === '') && (e.family === 65535 || (e.family === 256 && e.address === hostname())));
  return new Promise((resolve, reject) => {
    const sock = connect(`/tmp/.X11-unix/X${number}`);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('X server did not answer'));
    }, timeoutMs);
    const done = (v: boolean | null, err?: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(v);
    };
    let buf = Buffer.alloc(0);
    let stage: 'setup' | 'atom' | 'owner' = 'setup';
    sock.on('error', (err) => done(null, err));
    sock.on('connect', () => {
      const name = cookie ? Buffer.from(cookie.name, 'latin1') : Buffer.alloc(0);
      const data = cookie?.data ?? Buffer.alloc(0);
      const head = Buffer.alloc(12);
      head.write('l', 0, 'latin1'); // little-endian
      head.writeUInt16LE(11, 2);
      head.writeUInt16LE(0, 4);
      head.writeUInt16LE(name.length, 6);
      head.writeUInt16LE(data.length, 8);
      sock.write(Buffer.concat([head, name, Buffer.alloc(pad4(name.length)), data, Buffer.alloc(pad4(data.length))]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 'setup') {
        if (buf.length < 8) return;
        const total = 8 + buf.readUInt16LE(6) * 4;
        if (buf.length < total) return;
        if (buf[0] !== 1) return done(null, new Error(`X server refused the connection: ${buf.subarray(8, 8 + (buf[1] ?? 0)).toString('latin1')}`));
        buf = buf.subarray(total);
        stage = 'atom';
        const nameBytes = Buffer.from(atom, 'latin1');
        const req = Buffer.alloc(8);
        req[0] = 16; // InternAtom
        req[1] = 1; // only if exists: a tray that never ran means no owner
        req.writeUInt16LE(2 + (nameBytes.length + pad4(nameBytes.length)) / 4, 2);
        req.writeUInt16LE(nameBytes.length, 4);
        sock.write(Buffer.concat([req, nameBytes, Buffer.alloc(pad4(nameBytes.length))]));
        return;
      }
      // Replies and errors are 32 bytes (no reply here carries extra data); events are skipped.
      while (buf.length >= 32) {
        const msg = buf.subarray(0, 32);
        buf = buf.subarray(32);
        if (msg[0] === 0) return done(null, new Error(`X error ${msg[1]}`));
        if (msg[0] !== 1) continue;
        const value = msg.readUInt32LE(8);
        if (stage === 'atom') {
          if (value === 0) return done(false);
          stage = 'owner';
          const req = Buffer.alloc(8);
          req[0] = 23; // GetSelectionOwner
          req.writeUInt16LE(2, 2);
          req.writeUInt32LE(value, 4);
          sock.write(req);
        } else return done(value !== 0);
      }
    });
  });
}
