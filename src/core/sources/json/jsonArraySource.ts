/** JSON record source: a file holding one array of objects, read element by element. */
import { createReadStream } from 'node:fs';
import type { RecordStream, SourceItem } from '../../model/types';
import { UserError } from '../../model/types';
import type { ArrayPiece } from './jsonArrayScanner';
import { JsonArrayScanner } from './jsonArrayScanner';
import { jsonTextToItem } from '../jsonRecord';
import { decodeUtf8 } from '../lineReader';
import { createRecordStream, tapChunks } from '../recordStream';
import type { FileReadOptions } from '../sourceFile';

/** Reads the JSON array file at `path` (already resolved and known to exist). */
export function jsonArraySource(path: string, options: FileReadOptions): RecordStream {
  return createRecordStream(async function* (tap) {
    const file = createReadStream(path, { highWaterMark: options.chunkBytes, signal: options.signal });
    const scanner = new JsonArrayScanner();
    for await (const text of decodeUtf8(tapChunks(file, tap))) {
      for (const piece of scanner.push(text)) yield pieceToItem(piece, path);
    }
    for (const piece of scanner.end()) yield pieceToItem(piece, path);
  }, options.totalBytes);
}

function pieceToItem(piece: ArrayPiece, path: string): SourceItem {
  switch (piece.kind) {
    case 'element':
      return jsonTextToItem(piece.text, piece.line);
    case 'problem':
      return { kind: 'rejected', line: piece.line, reason: piece.message };
    case 'notAnArray':
      // Nothing in the file can be read as records: that is the source's fault, not one record's.
      throw new UserError(`${path}:${piece.line}: ${piece.message}`, [
        { file: path, line: piece.line, message: piece.message },
      ]);
  }
}
