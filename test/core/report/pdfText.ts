/**
 * Text of a PDF as Chromium prints it, for "the PDF holds this number and not that secret" assertions
 * without a PDF library: inflate every stream, read each font's ToUnicode map, and decode the glyph
 * strings of the text operators with the font selected at that point. Good enough for Chromium's
 * (Skia's) output, which names fonts uniquely and writes glyph ids as hex strings.
 */
import * as zlib from 'node:zlib';

interface PdfObject {
  dict: string;
  stream?: Buffer;
}

export function pdfText(pdf: Buffer): string {
  const objects = parseObjects(pdf.toString('latin1'));
  const cmaps = new Map<string, Map<number, string>>();
  for (const [, object] of objects) {
    for (const match of object.dict.matchAll(/\/Font\s*<<([^>]*)>>/g)) {
      for (const font of match[1]!.matchAll(/\/([\w.+-]+)\s+(\d+)\s+0\s+R/g)) {
        const toUnicode = /\/ToUnicode\s+(\d+)\s+0\s+R/.exec(objects.get(font[2]!)?.dict ?? '');
        const cmap = toUnicode ? objects.get(toUnicode[1]!)?.stream : undefined;
        if (cmap) cmaps.set(font[1]!, parseCMap(cmap.toString('latin1')));
      }
    }
  }
  const texts: string[] = [];
  for (const [, object] of objects) {
    const content = object.stream?.toString('latin1');
    if (content && /\bT[jJ]\b/.test(content)) texts.push(decodeContent(content, cmaps));
  }
  return texts.join('\n');
}

function parseObjects(text: string): Map<string, PdfObject> {
  const objects = new Map<string, PdfObject>();
  for (const match of text.matchAll(/(\d+)\s+0\s+obj\b([\s\S]*?)\bendobj/g)) {
    const body = match[2]!;
    const streamAt = body.search(/\bstream\r?\n/);
    if (streamAt === -1) {
      objects.set(match[1]!, { dict: body });
      continue;
    }
    const dict = body.slice(0, streamAt);
    const start = body.indexOf('\n', streamAt) + 1;
    const end = body.lastIndexOf('endstream');
    let data = Buffer.from(body.slice(start, end).replace(/\r?\n$/, ''), 'latin1');
    if (/FlateDecode/.test(dict)) {
      try {
        data = zlib.inflateSync(data);
      } catch {
        continue; // a stream we cannot read (an image, say) holds no text we look for
      }
    }
    objects.set(match[1]!, { dict, stream: data });
  }
  return objects;
}

function parseCMap(text: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const block of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const pair of block[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) {
      map.set(parseInt(pair[1]!, 16), utf16(pair[2]!));
    }
  }
  for (const block of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const range of block[1]!.matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) {
      const low = parseInt(range[1]!, 16);
      const first = parseInt(range[3]!, 16);
      for (let code = low; code <= parseInt(range[2]!, 16); code += 1) {
        map.set(code, String.fromCodePoint(first + code - low));
      }
    }
  }
  return map;
}

function utf16(hex: string): string {
  let out = '';
  for (let i = 0; i + 4 <= hex.length; i += 4) out += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
  return out;
}

function decodeContent(content: string, cmaps: Map<string, Map<number, string>>): string {
  let cmap: Map<number, string> | undefined;
  let out = '';
  const tokens = /\/([\w.+-]+)\s+[\d.]+\s+Tf|\[((?:[^\]\\]|\\.)*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|\bET\b/g;
  for (const token of content.matchAll(tokens)) {
    if (token[1] !== undefined) cmap = cmaps.get(token[1]);
    else if (token[2] !== undefined)
      out += [...token[2].matchAll(/<([0-9A-Fa-f]*)>/g)].map((h) => glyphs(h[1]!, cmap)).join('');
    else if (token[3] !== undefined) out += glyphs(token[3], cmap);
    else out += '\n';
  }
  return out;
}

function glyphs(hex: string, cmap: Map<number, string> | undefined): string {
  let out = '';
  for (let i = 0; i + 4 <= hex.length; i += 4) out += cmap?.get(parseInt(hex.slice(i, i + 4), 16)) ?? '';
  return out;
}
