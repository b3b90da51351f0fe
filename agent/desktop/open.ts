import { spawn } from 'node:child_process';

/**
 * Opens a folder or file with the desktop's own program (file manager, text viewer). Detached
 * and unwaited: what the person does with the window is none of the agent's business.
 */
export function openPath(path: string, onError: (err: Error) => void, platform: NodeJS.Platform = process.platform): void {
  const [cmd, args] = platform === 'win32' ? ['explorer.exe', [path]] : platform === 'darwin' ? ['open', [path]] : ['xdg-open', [path]];
  try {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    child.on('error', onError);
    child.unref();
  } catch (err) {
    onError(err as Error);
  }
}
