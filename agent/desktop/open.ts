import { spawn } from 'node:child_process';

/**
 * Opens a folder or file with the desktop's own program (file manager, text viewer). Detached
 * and unwaited: what the person does with the window is none of the agent's business.
 */
export function openPath(path: string, onError: (err: Error) => void, platform: NodeJS.Platform = process.platform): void {
  const [cmd, args] = platform === 'win32' ? ['explorer.exe', [path]] : platform === 'darwin' ? ['open', [path]] : ['xdg-open', [path]];
  try {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore', env: openerEnv() });
    child.on('error', onError);
    child.unref();
  } catch (err) {
    onError(err as Error);
  }
}

/** The agent's environment without what it set for the tray helper only (see Tray.spawn). */
export function openerEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.LIFEBOAT_SET_GDK_GL !== '1') return env;
  const { GDK_GL: _gl, LIFEBOAT_SET_GDK_GL: _mark, ...rest } = env;
  return rest;
}
