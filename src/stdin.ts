// Reads the document BILLmanager sends on stdin, refusing one that is absurdly large rather than
// buffering it (a connection form is a few hundred bytes).
import { BadInputError } from './errors.js';

const MAX_STDIN = 1024 * 1024;

export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_STDIN) {
      throw new BadInputError('stdin', String(size), `The document on stdin is larger than ${MAX_STDIN} bytes; BILLmanager sends a small form. Nothing was done.`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
