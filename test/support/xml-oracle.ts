// A second strict XML 1.0 parser for the differential tests of src/xml.ts: expat (libexpat, the
// parser of Python's xml.parsers.expat, in every python3), run as one child process per batch of
// documents. Its events are turned into our tree by the same rules as src/xml.ts (values as sent;
// a whitespace-only text run in an element with child elements is indentation; a DOCTYPE and
// nesting deeper than 256 refused), so the two must agree on every document, in both directions.
import { spawnSync } from 'node:child_process';
import type { XmlElement } from '../../src/xml.js';

export type OracleVerdict = { ok: true; tree: XmlElement } | { ok: false; reason: string };

const SCRIPT = String.raw`
import sys, json, base64, re
import xml.parsers.expat as E

MAX_DEPTH = 256
BLANK = ' \t\n\r'

class Refused(Exception):
    pass

def parse(data):
    p = E.ParserCreate()
    p.ordered_attributes = True
    stack = []
    root = [None]
    run = ['']
    in_cdata = [False]

    def flush():
        t = run[0]
        run[0] = ''
        if not stack or t == '':
            return
        top = stack[-1]
        top['all'] += t
        if in_cdata[0] or t.strip(BLANK) != '':
            top['kept'] += t

    def start(name, attrs):
        flush()
        if len(stack) >= MAX_DEPTH:
            raise Refused('nested deeper than %d' % MAX_DEPTH)
        el = {'name': name, 'attrs': dict(zip(attrs[::2], attrs[1::2])), 'text': '', 'children': []}
        if stack:
            stack[-1]['el']['children'].append(el)
        else:
            root[0] = el
        stack.append({'el': el, 'all': '', 'kept': ''})

    def end(name):
        flush()
        top = stack.pop()
        el = top['el']
        el['text'] = top['kept'] if el['children'] else top['all']

    def chars(d):
        run[0] += d

    def start_cdata():
        flush()
        in_cdata[0] = True

    def end_cdata():
        flush()
        in_cdata[0] = False

    def xmldecl(version, encoding, standalone):
        # XML 1.0 [26] VersionNum ::= '1.' [0-9]+ ; expat takes any version, saxes (rightly) not.
        if version is not None and not re.fullmatch(r'1\.[0-9]+', version):
            raise Refused('version %s' % version)
        if encoding is not None and encoding.lower() != 'utf-8':
            raise Refused('encoding %s' % encoding)

    def doctype(*a):
        raise Refused('DOCTYPE')

    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    p.StartCdataSectionHandler = start_cdata
    p.EndCdataSectionHandler = end_cdata
    p.CommentHandler = lambda d: flush()
    p.ProcessingInstructionHandler = lambda t, d: flush()
    p.StartDoctypeDeclHandler = doctype
    p.XmlDeclHandler = xmldecl
    p.Parse(data, True)
    return root[0]

out = []
for b64 in json.load(sys.stdin):
    try:
        out.append({'ok': True, 'tree': parse(base64.b64decode(b64))})
    except E.ExpatError as e:
        out.append({'ok': False, 'reason': str(e)})
    except (Refused, LookupError, ValueError) as e:
        out.append({'ok': False, 'reason': '%s: %s' % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`;

/**
 * UTF-8, except that a lone surrogate is written as the three bytes UTF-8 would give its code
 * point (which no decoder takes): Buffer.from(s, 'utf8') would turn it into U+FFFD, a character
 * XML allows, and hide the damage from expat.
 */
export function utf8Exact(s: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
  for (let m = lone.exec(s); m; m = lone.exec(s)) {
    parts.push(Buffer.from(s.slice(from, m.index), 'utf8'));
    const cp = m[0].charCodeAt(0);
    parts.push(Buffer.from([0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]));
    from = m.index + 1;
  }
  parts.push(Buffer.from(s.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/** expat's verdict on each document: its tree, or its refusal. One python3 process per call. */
export function expatVerdicts(docs: readonly string[]): OracleVerdict[] {
  const input = JSON.stringify(docs.map((d) => utf8Exact(d).toString('base64')));
  const r = spawnSync('python3', ['-c', SCRIPT], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`the expat oracle failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}`);
  const verdicts = JSON.parse(r.stdout) as OracleVerdict[];
  if (verdicts.length !== docs.length) throw new Error(`the expat oracle answered ${verdicts.length} of ${docs.length} documents`);
  return verdicts;
}

/** One document's tree by expat; throws with expat's reason when it refuses the document. */
export function expatTree(doc: string): XmlElement {
  const v = expatVerdicts([doc])[0]!;
  if (!v.ok) throw new Error(`expat: ${v.reason}`);
  return v.tree;
}
