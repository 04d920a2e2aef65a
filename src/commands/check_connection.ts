// `check_connection` (SPEC 3): BILLmanager sends the connection form on stdin (password in plain
// text); we validate the URL and authenticate at the licensing server.
import { BadInputError } from '../errors.js';
import { addSecret } from '../log.js';
import { readStdin } from '../stdin.js';
import { LicensingClient } from '../upstream/client.js';
import type { ConnectionSettings } from '../upstream/types.js';
import { child, childText, parseXml, XmlError } from '../xml.js';

export function parseConnectionForm(text: string): ConnectionSettings {
  let doc;
  try {
    doc = parseXml(text);
  } catch (e) {
    throw new BadInputError('stdin', '', `The connection form on stdin is not usable XML: ${(e as XmlError).message}.`);
  }
  const form = child(doc, 'processingmodule') ?? doc;
  // The password as sent (spaces may be part of it); the URL and user name without surrounding spaces.
  const settings = { url: childText(form, 'url').trim(), username: childText(form, 'username').trim(), password: childText(form, 'password') };
  addSecret(settings.password);
  for (const field of ['url', 'username', 'password'] as const) {
    if (!settings[field]) throw new BadInputError(field, '', `The connection form has no ${field}: fill in the URL, user name and password of the licensing server.`);
  }
  return settings;
}

export async function run(): Promise<string> {
  const settings = parseConnectionForm(await readStdin());
  await new LicensingClient(settings).auth();
  return '<doc><ok/></doc>\n';
}
