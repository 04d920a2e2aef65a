// Writing XML is string building: the features path must not load an XML library.
// Everything the module writes into XML goes through escapeXml (SPEC 6): the characters XML 1.0
// forbids are dropped, the rest escaped, so no text — an upstream message, a license name, a
// value from the command line — can make a document that a strict reader (BILLmanager's,
// src/xml.ts) refuses.

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; with the
// u flag a lone surrogate is one code point outside these ranges, and is dropped too.
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const SPECIAL = /[&<>"']/g;
const ENTITY: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** `s` without the characters XML 1.0 forbids (control characters, U+FFFE/U+FFFF, lone surrogates). */
export function dropXmlForbidden(s: string): string {
  return s.replace(FORBIDDEN, '');
}

/** `s` as XML text or attribute value: forbidden characters dropped, the rest escaped. */
export function escapeXml(s: string): string {
  return s.replace(FORBIDDEN, '').replace(SPECIAL, (c) => ENTITY[c]!);
}
