/** pino-roll ships no types; this is the part of its documented API Lifeboat uses. */
declare module 'pino-roll' {
  import type { DestinationStream } from 'pino';
  interface PinoRollOptions {
    file: string;
    extension?: string;
    size?: string | number;
    frequency?: string | number;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    symlink?: boolean;
  }
  export default function pinoRoll(options: PinoRollOptions): Promise<DestinationStream & { flushSync?: () => void; end?: () => void }>;
}
