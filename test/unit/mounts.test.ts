import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unmountedMountPoint } from '../../agent/destinations/mounts.js';

const FSTAB = `# /etc/fstab: static file system information.
UUID=1234-abcd  /               ext4  errors=remount-ro 0 1
UUID=5678       none            swap  sw 0 0
//nas/backups   /mnt/nas        cifs  credentials=/root/.smb,_netdev,nofail 0 0
/dev/sdb1       /media/usb\\040disk  ext4  noauto,nofail 0 2
//nas/inner     /mnt/nas/inner  cifs  _netdev 0 0
`;
/** mountinfo lines: id parent major:minor root mount-point options ... */
const info = (...points: string[]): string => points.map((p, i) => `${20 + i} 1 0:${i} / ${p.replace(/ /g, '\\040')} rw,relatime - ext4 /dev/x rw`).join('\n');

describe('copy folder under an fstab mount point that is not mounted (Linux mount tables)', () => {
  it('finds the unmounted mount point a path lies under, and nothing once it is mounted', () => {
    expect(unmountedMountPoint('/mnt/nas/pos', { fstab: FSTAB, mountinfo: info('/') })).toBe('/mnt/nas');
    expect(unmountedMountPoint('/mnt/nas', { fstab: FSTAB, mountinfo: info('/') })).toBe('/mnt/nas');
    expect(unmountedMountPoint('/mnt/nas/pos', { fstab: FSTAB, mountinfo: info('/', '/mnt/nas') })).toBeNull();
  });

  it('reads escaped spaces, picks the innermost mount point, and ignores /, swap, comments and paths elsewhere', () => {
    expect(unmountedMountPoint('/media/usb disk/pos', { fstab: FSTAB, mountinfo: info('/') })).toBe('/media/usb disk');
    expect(unmountedMountPoint('/media/usb disk/pos', { fstab: FSTAB, mountinfo: info('/', '/media/usb disk') })).toBeNull();
    expect(unmountedMountPoint('/mnt/nas/inner/pos', { fstab: FSTAB, mountinfo: info('/', '/mnt/nas') })).toBe('/mnt/nas/inner');
    expect(unmountedMountPoint('/mnt/nasty/pos', { fstab: FSTAB, mountinfo: info('/') })).toBeNull();
    expect(unmountedMountPoint('/home/shop/backups', { fstab: FSTAB, mountinfo: info('/') })).toBeNull();
    expect(unmountedMountPoint('/mnt/nas/pos', null)).toBeNull();
  });

  it('a share mounted by hand below an fstab mount point that is not mounted is fine', () => {
    const fstab = '/dev/sdc1 /mnt ext4 noauto 0 2\n';
    expect(unmountedMountPoint('/mnt/nas/pos', { fstab, mountinfo: info('/', '/mnt/nas') })).toBeNull();
    expect(unmountedMountPoint('/mnt/nas/pos', { fstab, mountinfo: info('/') })).toBe('/mnt');
  });

  it('an fstab mount point named through a symlink is matched with the real path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-mounts-'));
    try {
      mkdirSync(join(dir, 'run', 'nas'), { recursive: true });
      symlinkSync(join(dir, 'run', 'nas'), join(dir, 'nas-link'));
      const fstab = `//nas/b ${join(dir, 'nas-link')} cifs _netdev 0 0\n`;
      expect(unmountedMountPoint(join(dir, 'run', 'nas', 'pos'), { fstab, mountinfo: info('/') })).toBe(join(dir, 'run', 'nas'));
      expect(unmountedMountPoint(join(dir, 'nas-link', 'pos'), { fstab, mountinfo: info('/', join(dir, 'run', 'nas')) })).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
